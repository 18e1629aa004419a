package app_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// appNeedLittleEndian skips a test that compares wire bytes holding
// "byteorder": "little": on a big-endian machine both the Go and the
// Python side say "big".
func appNeedLittleEndian(t testing.TB) {
	t.Helper()
	if message.NativeByteOrder() != "little" {
		t.Skipf("the reference bytes say \"little\"; this machine is %s-endian", message.NativeByteOrder())
	}
}

// tutorialVector is one exchange of the tutorial's Python programs: the
// bytes app_client.py sends for ACTION VALUE and the bytes app_server.py
// answers, pasted from a run of python/app_client.py against
// python/app_server.py (Python 3.11, a little-endian machine), and the
// result the Python client prints.
type tutorialVector struct {
	name          string
	action, value string
	request       string
	response      string
	result        string // the Python client's "Got result:" (JSON) or the content (binary)
	json          bool
}

// tutorialVectors are the reference exchanges, each captured from the
// Python programs. Non-ASCII text stands for its UTF-8 bytes.
var tutorialVectors = []tutorialVector{
	{
		name: "search morpheus", action: "search", value: "morpheus",
		request:  "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}{"action": "search", "value": "morpheus"}`,
		response: "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}{"result": "Follow the white rabbit. ` + "\xf0\x9f\x90\xb0" + `"}`,
		result:   "Follow the white rabbit. 🐰", json: true,
	},
	{
		name: "search ring", action: "search", value: "ring",
		request:  "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"action": "search", "value": "ring"}`,
		response: "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 60}{"result": "In the caves beneath the Misty Mountains. 💍"}`,
		result:   "In the caves beneath the Misty Mountains. 💍", json: true,
	},
	{
		name: "search dog", action: "search", value: "🐶",
		request:  "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"action": "search", "value": "🐶"}`,
		response: "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"result": "🐾 Playing ball! 🏐"}`,
		result:   "🐾 Playing ball! 🏐", json: true,
	},
	{
		name: "search unknown", action: "search", value: "nothing",
		request:  "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 40}{"action": "search", "value": "nothing"}`,
		response: "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"result": "No match for 'nothing'."}`,
		result:   "No match for 'nothing'.", json: true,
	},
	{
		// Go's encoding/json would write \u003c, \u0026 and \u00e9 here.
		name: "search quotes, markup and non-ASCII", action: "search", value: `it's "<b>&</b>" héllo`,
		request:  "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 57}{"action": "search", "value": "it's \"<b>&</b>\" héllo"}`,
		response: "\x00" + `g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 54}{"result": "No match for 'it's \"<b>&</b>\" héllo'."}`,
		result:   `No match for 'it's "<b>&</b>" héllo'.`, json: true,
	},
	{
		name: "binary hello", action: "binary", value: "hello",
		request:  "\x00\x7f" + `{"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 11}binaryhello`,
		response: "\x00\x7f" + `{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 37}First 10 bytes of request: binaryhell`,
		result:   "First 10 bytes of request: binaryhell",
	},
	{
		name: "binary shorter than 10 bytes", action: "foo", value: "bar",
		request:  "\x00~" + `{"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 6}foobar`,
		response: "\x00\x7f" + `{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 33}First 10 bytes of request: foobar`,
		result:   "First 10 bytes of request: foobar",
	},
}

// appWire returns the wire bytes of m, failing the test if it has none.
func appWire(t testing.TB, m message.Message) []byte {
	t.Helper()
	b, err := message.Append(nil, m)
	require.NoError(t, err)
	return b
}

// appMustRequest is app.NewRequest for arguments that must be valid.
func appMustRequest(t testing.TB, action, value string) message.Message {
	t.Helper()
	req, err := app.NewRequest(action, value)
	require.NoError(t, err)
	return req
}

// The Go side writes the Python programs' bytes exactly, both ways.
func TestWireBytesMatchTheTutorial(t *testing.T) {
	appNeedLittleEndian(t)
	for _, v := range tutorialVectors {
		t.Run(v.name, func(t *testing.T) {
			req := appMustRequest(t, v.action, v.value)
			if diff := cmp.Diff(v.request, string(appWire(t, req))); diff != "" {
				t.Errorf("request bytes (-python +go):\n%s", diff)
			}
			resp, err := app.Respond(req)
			require.NoError(t, err)
			if diff := cmp.Diff(v.response, string(appWire(t, resp))); diff != "" {
				t.Errorf("response bytes (-python +go):\n%s", diff)
			}
			result, isJSON, err := app.Result(resp)
			require.NoError(t, err)
			assert.Equal(t, v.result, result)
			assert.Equal(t, v.json, isJSON)
			assert.False(t, app.IsError(result))
		})
	}
}

func TestNewRequest(t *testing.T) {
	tests := []struct {
		name          string
		action, value string
		want          message.Message
	}{
		{
			name: "search is JSON", action: "search", value: "morpheus",
			want: message.Message{ContentType: message.TypeJSON, ContentEncoding: message.EncodingUTF8,
				Content: []byte(`{"action": "search", "value": "morpheus"}`)},
		},
		{
			name: "search escapes like Python", action: "search", value: "a\"b\\c\td\x01é<>&",
			want: message.Message{ContentType: message.TypeJSON, ContentEncoding: message.EncodingUTF8,
				Content: []byte(`{"action": "search", "value": "a\"b\\c\td\u0001é<>&"}`)},
		},
		{
			name: "search for nothing", action: "search", value: "",
			want: message.Message{ContentType: message.TypeJSON, ContentEncoding: message.EncodingUTF8,
				Content: []byte(`{"action": "search", "value": ""}`)},
		},
		{
			name: "other action is binary ACTION+VALUE", action: "binary", value: "hello",
			want: message.Message{ContentType: message.TypeClientBinary, ContentEncoding: message.EncodingBinary,
				Content: []byte("binaryhello")},
		},
		{
			name: "Search is not search", action: "Search", value: "x",
			want: message.Message{ContentType: message.TypeClientBinary, ContentEncoding: message.EncodingBinary,
				Content: []byte("Searchx")},
		},
		{
			name: "binary with non-ASCII", action: "🐶", value: "é",
			want: message.Message{ContentType: message.TypeClientBinary, ContentEncoding: message.EncodingBinary,
				Content: []byte("🐶é")},
		},
		{
			name: "empty binary", action: "", value: "",
			want: message.Message{ContentType: message.TypeClientBinary, ContentEncoding: message.EncodingBinary,
				Content: []byte{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := app.NewRequest(tt.action, tt.value)
			require.NoError(t, err)
			tt.want.ByteOrder = message.NativeByteOrder()
			assert.Equal(t, tt.want.ByteOrder, got.ByteOrder)
			assert.Equal(t, tt.want.ContentType, got.ContentType)
			assert.Equal(t, tt.want.ContentEncoding, got.ContentEncoding)
			assert.Equal(t, string(tt.want.Content), string(got.Content))
		})
	}
}

// Python's bytes(action + value, encoding="utf-8") raises on text that
// is not UTF-8; NewRequest says so rather than send it.
func TestNewRequestRejectsInvalidUTF8(t *testing.T) {
	for _, args := range [][2]string{
		{"search", "\xff"},
		{"search", "abc\xc3"},
		{"binary", "\xff\xfe"},
		{"\x80", "x"},
		{"search\xff", "morpheus"},
	} {
		_, err := app.NewRequest(args[0], args[1])
		assert.Error(t, err, "NewRequest(%q, %q)", args[0], args[1])
	}
}

// jsonRequest is a text/json request with the given content.
func jsonRequest(content string) message.Message {
	return message.Message{ByteOrder: "little", ContentType: message.TypeJSON, ContentEncoding: message.EncodingUTF8, Content: []byte(content)}
}

// binaryRequest is a binary request with the given content.
func binaryRequest(content string) message.Message {
	return message.Message{ByteOrder: "little", ContentType: message.TypeClientBinary, ContentEncoding: message.EncodingBinary, Content: []byte(content)}
}

// Requests Respond answers; the answers are the tutorial's.
func TestRespond(t *testing.T) {
	tests := []struct {
		name     string
		req      message.Message
		want     string
		wantJSON bool
	}{
		{"morpheus", jsonRequest(`{"action": "search", "value": "morpheus"}`), "Follow the white rabbit. 🐰", true},
		{"ring", jsonRequest(`{"action": "search", "value": "ring"}`), "In the caves beneath the Misty Mountains. 💍", true},
		{"dog", jsonRequest(`{"action": "search", "value": "🐶"}`), "🐾 Playing ball! 🏐", true},
		{"dog escaped", jsonRequest(`{"action": "search", "value": "\ud83d\udc36"}`), "🐾 Playing ball! 🏐", true},
		{"keys in another order", jsonRequest(`{"value": "ring", "action": "search"}`), "In the caves beneath the Misty Mountains. 💍", true},
		{"extra key", jsonRequest(`{"action": "search", "value": "ring", "lang": "en"}`), "In the caves beneath the Misty Mountains. 💍", true},
		{"no spaces", jsonRequest(`{"action":"search","value":"ring"}`), "In the caves beneath the Misty Mountains. 💍", true},
		{"unknown value", jsonRequest(`{"action": "search", "value": "Morpheus"}`), "No match for 'Morpheus'.", true},
		{"empty value", jsonRequest(`{"action": "search", "value": ""}`), "No match for ''.", true},
		{"quotes, markup, non-ASCII", jsonRequest(`{"action": "search", "value": "it's \"<b>&</b>\" héllo"}`), `No match for 'it's "<b>&</b>" héllo'.`, true},
		// Unlike the tutorial: a value that is not all printable, or long,
		// is shown escaped, or cut (see TestRespondQuotesWhatTheClientSent).
		{"control characters", jsonRequest(`{"action": "search", "value": "a\tb\n\u0000"}`), `No match for "a\tb\n\x00".`, true},
		// As in the tutorial: an error in the result, not a rejection.
		{"another action", jsonRequest(`{"action": "delete", "value": "morpheus"}`), "Error: invalid action 'delete'.", true},
		{"another action, no value", jsonRequest(`{"action": "list"}`), "Error: invalid action 'list'.", true},
		{"binary", binaryRequest("binaryhello"), "First 10 bytes of request: binaryhell", false},
		{"binary of 10 bytes", binaryRequest("0123456789"), "First 10 bytes of request: 0123456789", false},
		{"binary shorter", binaryRequest("foobar"), "First 10 bytes of request: foobar", false},
		{"binary bytes that are not UTF-8", binaryRequest("\xff\x00\xfe"), "First 10 bytes of request: \xff\x00\xfe", false},
		// The Python server never answers an empty request (b"" is
		// falsy); this one must.
		{"empty binary", binaryRequest(""), "First 10 bytes of request: ", false},
		{"other content type", message.Message{ByteOrder: "big", ContentType: "text/plain", ContentEncoding: message.EncodingUTF8, Content: []byte("hello")}, "First 10 bytes of request: hello", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := app.Respond(tt.req)
			require.NoError(t, err)
			assert.Equal(t, message.NativeByteOrder(), resp.ByteOrder)
			if tt.wantJSON {
				assert.Equal(t, message.TypeJSON, resp.ContentType)
				assert.Equal(t, message.EncodingUTF8, resp.ContentEncoding)
			} else {
				assert.Equal(t, message.TypeServerBinary, resp.ContentType)
				assert.Equal(t, message.EncodingBinary, resp.ContentEncoding)
				assert.Equal(t, tt.want, string(resp.Content))
			}
			result, isJSON, err := app.Result(resp)
			require.NoError(t, err)
			assert.Equal(t, tt.want, result)
			assert.Equal(t, tt.wantJSON, isJSON)
		})
	}
}

// The exact bytes of answers that have no Python reference: the empty
// binary request (Python never answers it) and a rejection.
func TestRespondWireBytes(t *testing.T) {
	appNeedLittleEndian(t)
	resp, err := app.Respond(appMustRequest(t, "", ""))
	require.NoError(t, err)
	want := "\x00\x7f" + `{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 27}First 10 bytes of request: `
	assert.Equal(t, want, string(appWire(t, resp)))

	resp, err = app.Respond(jsonRequest(`{"value": "x"}`))
	require.Error(t, err)
	want = "\x00g" + `{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 48}{"result": "Error: bad request: no \"action\"."}`
	assert.Equal(t, want, string(appWire(t, resp)))
}

// What a client sent comes back in an answer ("No match for 'VALUE'.",
// "Error: invalid action 'ACTION'.") as the tutorial shows it when it is
// printable and short; escaped when it is not, and cut after about 200
// bytes, saying how long it was. So no answer grows with what the client
// sent, and none holds a control character the client's terminal would
// obey.
func TestRespondQuotesWhatTheClientSent(t *testing.T) {
	long := strings.Repeat("x", 1<<20-40)
	tests := []struct {
		name   string
		action string
		value  string
		want   string
	}{
		{"printable", "search", "it's \"<b>&</b>\" héllo", `No match for 'it's "<b>&</b>" héllo'.`},
		{"200 bytes", "search", strings.Repeat("y", 200), "No match for '" + strings.Repeat("y", 200) + "'."},
		{"long", "search", long, "No match for '" + strings.Repeat("x", 200) + "'... (1048536 bytes)."},
		{"long, cut between two characters", "search", strings.Repeat("é", 101), "No match for '" + strings.Repeat("é", 100) + "'... (202 bytes)."},
		{"escape sequence", "search", "\x1b[2J\x1b[H", `No match for "\x1b[2J\x1b[H".`},
		{"DEL and C1 controls", "search", "\x7f\u0085\u009b", `No match for "\x7f\u0085\u009b".`},
		{"line separator", "search", "a\u2028b", `No match for "a\u2028b".`},
		{"invalid action, newline", "x\nclosing connection to 10.9.8.7:6543: forged", "", `Error: invalid action "x\nclosing connection to 10.9.8.7:6543: forged".`},
		{"invalid action, long", long, "", "Error: invalid action '" + strings.Repeat("x", 200) + "'... (1048536 bytes)."},
		{"invalid action, DEL bytes", strings.Repeat("\x7f", 1<<20-40), "", `Error: invalid action "` + strings.Repeat(`\x7f`, 49) + `"... (1048536 bytes).`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content, err := message.AppendObject(nil, "action", tt.action, "value", tt.value)
			require.NoError(t, err)
			resp, err := app.Respond(jsonRequest(string(content)))
			require.NoError(t, err)
			result, _, err := app.Result(resp)
			require.NoError(t, err)
			assert.Equal(t, tt.want, result)
			assert.Less(t, len(appWire(t, resp)), 600, "the whole answer, on the wire")
		})
	}
}

// Requests Respond rejects: it returns an error, and a JSON response
// whose result starts with "Error: " and says what was wrong.
func TestRespondRejects(t *testing.T) {
	tests := []struct {
		name string
		req  message.Message
		want string // in the error and in the result
	}{
		{"JSON in binary encoding", message.Message{ByteOrder: "little", ContentType: message.TypeJSON, ContentEncoding: message.EncodingBinary, Content: []byte(`{"action": "search", "value": "ring"}`)}, "text/json content must be utf-8, not binary"},
		{"content not UTF-8", jsonRequest("{\"action\": \"search\", \"value\": \"\xff\"}"), "not valid UTF-8"},
		{"not JSON", jsonRequest(`action=search&value=ring`), "JSON content"},
		{"truncated JSON", jsonRequest(`{"action": "search", "value": "ri`), "JSON content"},
		{"empty content", jsonRequest(``), "JSON content"},
		{"trailing bytes", jsonRequest(`{"action": "search", "value": "ring"}{}`), "more after the JSON object"},
		{"an array", jsonRequest(`["search", "ring"]`), "JSON content is an array, want an object"},
		{"a string", jsonRequest(`"ring"`), "JSON content is a string, want an object"},
		{"null", jsonRequest(`null`), "JSON content is null, want an object"},
		{"value not a string", jsonRequest(`{"action": "search", "value": 42}`), `"value" is a number, want a string`},
		{"value null", jsonRequest(`{"action": "search", "value": null}`), `"value" is null, want a string`},
		{"action not a string", jsonRequest(`{"action": ["search"], "value": "ring"}`), `"action" is an array, want a string`},
		{"action missing", jsonRequest(`{"value": "ring"}`), `no "action"`},
		{"value missing", jsonRequest(`{"action": "search"}`), `no "value" to search for`},
		{"duplicate key", jsonRequest(`{"action": "search", "value": "ring", "value": "morpheus"}`), `"value" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := app.Respond(tt.req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, message.TypeJSON, resp.ContentType)
			assert.Equal(t, message.EncodingUTF8, resp.ContentEncoding)
			result, isJSON, rerr := app.Result(resp)
			require.NoError(t, rerr, "the rejection itself must be a good response")
			assert.True(t, isJSON)
			assert.True(t, app.IsError(result), "result %q", result)
			assert.Equal(t, "Error: "+err.Error()+".", result)
			// The response must go on the wire as it is.
			_, werr := message.Append(nil, resp)
			assert.NoError(t, werr)
		})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name     string
		resp     message.Message
		want     string
		wantJSON bool
		wantErr  string // "" for none
	}{
		{"JSON", jsonRequest(`{"result": "Follow the white rabbit. 🐰"}`), "Follow the white rabbit. 🐰", true, ""},
		{"JSON with escapes", jsonRequest(`{"result": "a\"b\\c\u00e9"}`), `a"b\cé`, true, ""},
		{"JSON with other keys", jsonRequest(`{"took": "1ms", "result": "ok"}`), "ok", true, ""},
		{"binary", message.Message{ContentType: message.TypeServerBinary, ContentEncoding: message.EncodingBinary, Content: []byte("First 10 bytes of request: \xff")}, "First 10 bytes of request: \xff", false, ""},
		{"binary, empty", message.Message{ContentType: message.TypeServerBinary, ContentEncoding: message.EncodingBinary}, "", false, ""},
		{"missing result", jsonRequest(`{"answer": "ok"}`), "", true, `no "result"`},
		{"bad JSON", jsonRequest(`{"result": `), "", true, "bad response"},
		{"not an object", jsonRequest(`["ok"]`), "", true, "want an object"},
		{"result not a string", jsonRequest(`{"result": 1}`), "", true, `"result" is a number`},
		{"JSON in binary encoding", message.Message{ContentType: message.TypeJSON, ContentEncoding: message.EncodingBinary, Content: []byte(`{"result": "ok"}`)}, "", true, "bad response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isJSON, err := app.Result(tt.resp)
			assert.Equal(t, tt.wantJSON, isJSON)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestIsError(t *testing.T) {
	for result, want := range map[string]bool{
		"Error: invalid action 'x'.": true,
		"Error: ":                    true,
		"Error:":                     false,
		"error: lower case":          false,
		" Error: not at the start":   false,
		"No match for 'Error: '.":    false,
		"Follow the white rabbit. 🐰": false,
		"":                           false,
	} {
		assert.Equal(t, want, app.IsError(result), "IsError(%q)", result)
	}
}

// Show is how the client prints what a server sent: printable text as it
// is, without quotes (the tutorial's lines); anything else escaped, as the
// server's log does (message.Quote); and either cut after about 200
// bytes, never in the middle of a character.
func TestShow(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"Follow the white rabbit. 🐰", "Follow the white rabbit. 🐰"},
		{`{"result": "No match for 'it\'s'."}`, `{"result": "No match for 'it\'s'."}`},
		{"`backquotes` and 'quotes'", "`backquotes` and 'quotes'"},
		{"\x1b[2J\x1b[Hcleared", `"\x1b[2J\x1b[Hcleared"`},
		{"red\r\nclosing connection to 10.9.8.7:6543", `"red\r\nclosing connection to 10.9.8.7:6543"`},
		{"bell\x07 and DEL\x7f", `"bell\a and DEL\x7f"`},
		{"C1\u009b2J and a line separator\u2028", `"C1\u009b2J and a line separator\u2028"`},
		{"not UTF-8: \xff", `"not UTF-8: \xff"`},
		{strings.Repeat("x", 200), strings.Repeat("x", 200)},
		{strings.Repeat("x", 201), strings.Repeat("x", 200) + "... (201 bytes)"},
		{strings.Repeat("🐰", 60), strings.Repeat("🐰", 50) + "... (240 bytes)"},
		{strings.Repeat("x", 1000) + "\x1b", strings.Repeat("x", 200) + "... (1001 bytes)"},
		{strings.Repeat("\x1b", 1000), `"` + strings.Repeat(`\x1b`, 49) + `"... (1000 bytes)`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, app.Show(tt.in), "Show(%.80q)", tt.in)
	}
}

// Repr writes what Python's repr(bytes) writes. Every want below was
// printed by Python 3.11.
func TestRepr(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `b''`},
		{"hello", `b'hello'`},
		{"it's", `b"it's"`},
		{`say "hi"`, `b'say "hi"'`},
		{`it's "x"`, `b'it\'s "x"'`},
		{`\`, `b'\\'`},
		{"\t\n\r", `b'\t\n\r'`},
		{"\x0b\x0c\x08", `b'\x0b\x0c\x08'`},
		{"\x00\x01\x1f\x7f\x80\xff", `b'\x00\x01\x1f\x7f\x80\xff'`},
		{"🐰", `b'\xf0\x9f\x90\xb0'`},
		{"~ ", `b'~ '`},
		{"\x00g{\"a\": 1}", `b'\x00g{"a": 1}'`},
		// Whole reference lines of the Python programs.
		{tutorialVectors[0].response, `b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}{"result": "Follow the white rabbit. \xf0\x9f\x90\xb0"}'`},
		{tutorialVectors[4].request, `b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 57}{"action": "search", "value": "it\'s \\"<b>&</b>\\" h\xc3\xa9llo"}'`},
		{tutorialVectors[4].response, `b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 54}{"result": "No match for \'it\'s \\"<b>&</b>\\" h\xc3\xa9llo\'."}'`},
		{tutorialVectors[5].request, `b'\x00\x7f{"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 11}binaryhello'`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, app.Repr([]byte(tt.in), 1000), "Repr(%q)", tt.in)
	}
}

// Past max bytes, Repr shows the first max and the total.
func TestReprTruncates(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, `b'hello'`},
		{"hello!", 5, `b'hello'... (6 bytes)`},
		{"hello", 0, `b''... (5 bytes)`},
		{"\x00\x01\x02\x03", 2, `b'\x00\x01'... (4 bytes)`},
		{"🐰🐰", 2, `b'\xf0\x9f'... (8 bytes)`},
		{strings.Repeat("x", 300), 200, "b'" + strings.Repeat("x", 200) + "'... (300 bytes)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, app.Repr([]byte(tt.in), tt.max), "Repr(%q, %d)", tt.in, tt.max)
	}
}
