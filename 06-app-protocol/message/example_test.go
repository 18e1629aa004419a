package message_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"example.com/sockets/06-app-protocol/message"
)

// The tutorial's request for "search morpheus", byte for byte as
// app-client.py sends it from a little-endian machine. (A real client
// sets ByteOrder to message.NativeByteOrder().)
func ExampleAppend() {
	content, err := message.AppendObject(nil, "action", "search", "value", "morpheus")
	if err != nil {
		log.Fatal(err)
	}
	b, err := message.Append(nil, message.Message{
		ByteOrder:       "little",
		ContentType:     message.TypeJSON,
		ContentEncoding: message.EncodingUTF8,
		Content:         content,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes: %q\n", len(b), b)
	// Output:
	// 146 bytes: "\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 41}{\"action\": \"search\", \"value\": \"morpheus\"}"
}

// Write sends a message in one Write call; here into a buffer that
// stands for the connection.
func ExampleWrite() {
	var conn bytes.Buffer
	err := message.Write(&conn, message.Message{
		ByteOrder:       "little",
		ContentType:     message.TypeClientBinary,
		ContentEncoding: message.EncodingBinary,
		Content:         []byte("binaryhello"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", conn.Bytes())
	// Output:
	// "\x00\x7f{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", \"content-encoding\": \"binary\", \"content-length\": 11}binaryhello"
}

// AppendString writes a JSON string as Python does, which is not how
// encoding/json does. (Printed with %q: in the first line \u2028 is Go
// quoting the raw character, in the second it is encoding/json's escape.)
func ExampleAppendString() {
	s := "<b>café</b> & \u2028\x01"
	std, _ := json.Marshal(s)
	fmt.Printf("Python:        %q\n", message.AppendString(nil, s))
	fmt.Printf("encoding/json: %q\n", std)
	// Output:
	// Python:        "\"<b>café</b> & \u2028\\u0001\""
	// encoding/json: "\"\\u003cb\\u003ecafé\\u003c/b\\u003e \\u0026 \\u2028\\u0001\""
}

// A Decoder reads the server's answer to "search morpheus" from a
// stream, here a strings.Reader standing for the connection.
func ExampleDecoder() {
	stream := "\x00g" +
		`{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}` +
		`{"result": "Follow the white rabbit. 🐰"}`
	d := message.NewDecoder(strings.NewReader(stream))
	for {
		m, err := d.Decode()
		if err == io.EOF {
			break // the stream ended between two messages
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s, %d bytes: %s\n", m.ContentType, len(m.Content), m.Content)
		obj, err := message.DecodeStrings(m.Content)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("result:", obj["result"])
	}
	// Output:
	// text/json, 43 bytes: {"result": "Follow the white rabbit. 🐰"}
	// result: Follow the white rabbit. 🐰
}

// A Parser is fed bytes as they arrive, in pieces of any size, and hands
// back each message once its last byte is in.
func ExampleParser() {
	stream := "\x00g" +
		`{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}` +
		`{"action": "search", "value": "morpheus"}`
	pieces := []string{stream[:1], stream[1:100], stream[100:]}

	var p message.Parser
	for i, piece := range pieces {
		msgs, err := p.Feed([]byte(piece))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("piece %d, %3d bytes: %d message(s), %3d bytes pending\n", i+1, len(piece), len(msgs), p.Pending())
		for _, m := range msgs {
			fmt.Printf("  %s %s\n", m.ContentType, m.Content)
		}
	}
	if err := p.End(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// piece 1,   1 bytes: 0 message(s),   1 bytes pending
	// piece 2,  99 bytes: 0 message(s), 100 bytes pending
	// piece 3,  46 bytes: 1 message(s),   0 bytes pending
	//   text/json {"action": "search", "value": "morpheus"}
}

// A peer that does not speak the protocol, here a web browser, is
// refused on the third byte, the first of the JSON header.
func ExampleParser_Feed_notThisProtocol() {
	var p message.Parser
	_, err := p.Feed([]byte("GET / HTTP/1.1\r\n"))
	fmt.Println(errors.Is(err, message.ErrHeader))
	fmt.Println(err)
	// Output:
	// true
	// bad JSON header: starts with 'T' where '{' should be: not this protocol
}

// DecodeStrings takes the JSON content of the tutorial's messages: an
// object whose values are all strings.
func ExampleDecodeStrings() {
	obj, err := message.DecodeStrings([]byte(`{"action": "search", "value": "\ud83d\udc36"}`))
	fmt.Println(obj["action"], obj["value"], err)

	_, err = message.DecodeStrings([]byte(`{"action": "search", "value": 42}`))
	fmt.Println(err)
	// Output:
	// search 🐶 <nil>
	// JSON content: "value" is a number, want a string
}
