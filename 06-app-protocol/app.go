package app

// The search service itself, the tutorial's create_response and what its
// client sends and reads: NewRequest, Respond, Result. New in this chapter.

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"example.com/sockets/06-app-protocol/message"
)

// The tutorial's answers to a search.
var answers = map[string]string{
	"morpheus":   "Follow the white rabbit. \U0001F430",
	"ring":       "In the caves beneath the Misty Mountains. \U0001F48D",
	"\U0001F436": "\U0001F43E Playing ball! \U0001F3D0",
}

// binaryPrefix starts the answer to a binary request, which goes on with
// the request's first ten bytes.
const binaryPrefix = "First 10 bytes of request: "

// NewRequest builds the request the tutorial's client sends for ACTION
// VALUE: for "search", the JSON {"action": "search", "value": VALUE};
// for any other action, the binary content ACTION+VALUE.
func NewRequest(action, value string) (message.Message, error) {
	if action == "search" {
		content, err := message.AppendObject(nil, "action", action, "value", value)
		if err != nil {
			return message.Message{}, err
		}
		return jsonMessage(content), nil
	}
	if !utf8.ValidString(action + value) {
		return message.Message{}, fmt.Errorf("%q is not valid UTF-8", action+value)
	}
	return message.Message{
		ByteOrder:       message.NativeByteOrder(),
		ContentType:     message.TypeClientBinary,
		ContentEncoding: message.EncodingBinary,
		Content:         []byte(action + value),
	}, nil
}

// Respond is the server's side of the application: it returns the
// response to req. A JSON request gets a JSON result: the answer to a
// search, or, as in the tutorial, "Error: invalid action 'ACTION'." for
// another action. Any other content type gets the binary answer.
//
// A request Respond cannot make sense of (JSON content that is not an
// object of strings, a missing action or value, an encoding that is not
// utf-8) gets a JSON result "Error: …" too, and a non-nil error: the
// server sends the result and then hangs up.
func Respond(req message.Message) (message.Message, error) {
	if req.ContentType != message.TypeJSON {
		content := make([]byte, 0, len(binaryPrefix)+10)
		content = append(content, binaryPrefix...)
		content = append(content, req.Content[:min(10, len(req.Content))]...)
		return message.Message{
			ByteOrder:       message.NativeByteOrder(),
			ContentType:     message.TypeServerBinary,
			ContentEncoding: message.EncodingBinary,
			Content:         content,
		}, nil
	}
	result, err := search(req)
	if err != nil {
		result = "Error: " + err.Error() + "."
	}
	content, _ := message.AppendObject(nil, "result", result) // valid UTF-8: checked, or from the table
	return jsonMessage(content), err
}

// search answers a JSON request.
func search(req message.Message) (string, error) {
	if req.ContentEncoding != message.EncodingUTF8 {
		return "", fmt.Errorf("bad request: %s content must be %s, not %s", message.TypeJSON, message.EncodingUTF8, req.ContentEncoding)
	}
	obj, err := message.DecodeStrings(req.Content)
	if err != nil {
		return "", fmt.Errorf("bad request: %w", err)
	}
	action, ok := obj["action"]
	if !ok {
		return "", errors.New(`bad request: no "action"`)
	}
	if action != "search" {
		return "Error: invalid action " + echo(action) + ".", nil
	}
	value, ok := obj["value"]
	if !ok {
		return "", errors.New(`bad request: no "value" to search for`)
	}
	if answer, ok := answers[value]; ok {
		return answer, nil
	}
	return "No match for " + echo(value) + ".", nil
}

func jsonMessage(content []byte) message.Message {
	return message.Message{
		ByteOrder:       message.NativeByteOrder(),
		ContentType:     message.TypeJSON,
		ContentEncoding: message.EncodingUTF8,
		Content:         content,
	}
}

// Result reads a response as the tutorial's client does: the "result" of
// a JSON response, or the content of a binary one; json says which.
func Result(resp message.Message) (result string, json bool, err error) {
	if resp.ContentType != message.TypeJSON {
		return string(resp.Content), false, nil
	}
	if resp.ContentEncoding != message.EncodingUTF8 {
		return "", true, fmt.Errorf("bad response: %s content in %s", message.TypeJSON, resp.ContentEncoding)
	}
	obj, err := message.DecodeStrings(resp.Content)
	if err != nil {
		return "", true, fmt.Errorf("bad response: %w", err)
	}
	result, ok := obj["result"]
	if !ok {
		return "", true, errors.New(`bad response: no "result"`)
	}
	return result, true, nil
}

// IsError reports whether a result is the server saying a request failed:
// in the tutorial's protocol, a result that starts with "Error: ".
func IsError(result string) bool { return strings.HasPrefix(result, "Error: ") }
