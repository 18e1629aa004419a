package message

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A Decoder reads messages from an io.Reader, one at a time, each call
// blocking until a whole message has arrived. It checks a message's JSON
// header before it reads the content, so an oversized content-length is
// refused without reading (or allocating) a byte of it.
type Decoder struct {
	// MaxContent is the largest content-length accepted; zero means
	// DefaultMaxContent.
	MaxContent int

	r   *bufio.Reader
	hdr []byte // the JSON header's bytes, reused from message to message
}

// NewDecoder returns a Decoder that reads from r through a buffer.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReader(r)}
}

// Decode reads the next message. At the end of the stream it returns
// io.EOF if the stream ended between messages, or an error wrapping
// [ErrTruncated] if it ended inside one. Bad bytes give an error wrapping
// [ErrHeader] or [ErrTooLarge]. Errors from the reader itself, such as a
// timeout, are returned wrapped: errors.Is and errors.As see through.
// After an error the stream is out of step with the messages in it: stop
// decoding it.
func (d *Decoder) Decode() (Message, error) {
	var prefix [2]byte
	if n, err := io.ReadFull(d.r, prefix[:]); err != nil {
		if err == io.EOF {
			return Message{}, io.EOF
		}
		return Message{}, truncated(err, "in the 2-byte header length", n, 2)
	}
	hdrLen := int(binary.BigEndian.Uint16(prefix[:]))
	if hdrLen == 0 {
		return Message{}, fmt.Errorf("%w: empty", ErrHeader)
	}
	d.hdr = append(d.hdr[:0], make([]byte, hdrLen)...)
	// The first byte alone first: if it is not '{', say so now.
	if n, err := io.ReadFull(d.r, d.hdr[:1]); err != nil {
		return Message{}, truncated(err, "in the JSON header", n, hdrLen)
	}
	if err := checkHeaderStart(d.hdr[0]); err != nil {
		return Message{}, err
	}
	if n, err := io.ReadFull(d.r, d.hdr[1:]); err != nil {
		return Message{}, truncated(err, "in the JSON header", 1+n, hdrLen)
	}
	m, length, err := parseHeader(d.hdr, orDefault(d.MaxContent))
	if err != nil {
		return Message{}, err
	}
	m.Content = make([]byte, length)
	if n, err := io.ReadFull(d.r, m.Content); err != nil {
		return Message{}, truncated(err, "in the content", n, length)
	}
	return m, nil
}

// truncated turns an end of stream in the middle of a message into an
// ErrTruncated that says where; other read errors are wrapped as they are.
func truncated(err error, where string, got, want int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the stream ended %s, after %d of %d bytes", ErrTruncated, where, got, want)
	}
	return fmt.Errorf("reading a message: %w", err)
}

func orDefault(max int) int {
	if max <= 0 {
		return DefaultMaxContent
	}
	return max
}

// The parts of a message, in the order a Parser expects them.
const (
	wantPrefix  = iota // the 2-byte header length ("protoheader")
	wantHeader         // the JSON header
	wantContent        // the content
)

// A Parser takes a stream's bytes as they arrive, in pieces of any size,
// and returns each message once its last byte is in: the tutorial's
// protoheader → JSON header → content state machine. It holds at most one
// unfinished message, and refuses an oversized one as soon as its JSON
// header is in, before any of the content.
//
// After an error the Parser is stuck: it returns the same error again.
type Parser struct {
	// MaxContent is the largest content-length accepted; zero means
	// DefaultMaxContent.
	MaxContent int

	state  int
	need   int     // bytes the current part needs
	buf    []byte  // the 2-byte prefix or the JSON header, so far
	msg    Message // the message being received; its content so far
	inMsg  int     // bytes of the current message received so far
	failed error
}

// Feed gives p the bytes that have just arrived and returns the messages
// they complete, in order. Bytes after the last complete message are kept
// for the next call; p does not keep data itself. An error means the
// stream is bad and cannot be resynchronised; the messages completed
// before the bad bytes are returned with it.
func (p *Parser) Feed(data []byte) ([]Message, error) {
	if p.failed != nil {
		return nil, p.failed
	}
	var done []Message
	for len(data) > 0 {
		if p.state == wantPrefix && p.need == 0 {
			p.need = 2
		}
		part := &p.buf
		if p.state == wantContent {
			part = &p.msg.Content
		}
		first := len(*part) == 0
		take := min(p.need-len(*part), len(data))
		*part = append(*part, data[:take]...)
		data = data[take:]
		p.inMsg += take
		if p.state == wantHeader && first {
			// The header's first byte: reject what is not JSON at once.
			if err := checkHeaderStart(p.buf[0]); err != nil {
				return done, p.fail(err)
			}
		}
		if len(*part) < p.need {
			continue // and data is empty
		}
		m, err := p.advance()
		if err != nil {
			return done, p.fail(err)
		}
		if m != nil {
			done = append(done, *m)
		}
	}
	return done, nil
}

// advance moves on once the current part is complete, and returns the
// message when its content is.
func (p *Parser) advance() (*Message, error) {
	switch p.state {
	case wantPrefix:
		p.need = int(binary.BigEndian.Uint16(p.buf))
		if p.need == 0 {
			return nil, fmt.Errorf("%w: empty", ErrHeader)
		}
		p.buf, p.state = p.buf[:0], wantHeader
		return nil, nil
	case wantHeader:
		m, length, err := parseHeader(p.buf, orDefault(p.MaxContent))
		if err != nil {
			return nil, err
		}
		p.buf, p.msg, p.need, p.state = p.buf[:0], m, length, wantContent
		if length > 0 {
			return nil, nil
		}
	}
	// The content is complete (or empty): the message is done, and its
	// content slice is handed over, not copied.
	m := p.msg
	if m.Content == nil {
		m.Content = []byte{}
	}
	p.msg, p.need, p.inMsg, p.state = Message{}, 0, 0, wantPrefix
	return &m, nil
}

func (p *Parser) fail(err error) error {
	p.failed = err
	p.buf, p.msg = nil, Message{}
	return err
}

// Pending returns how many bytes of an unfinished message p has received:
// zero between messages. A server uses it to tell a client that is
// silent between requests from one that stalls in the middle of one.
func (p *Parser) Pending() int { return p.inMsg }

// End tells p that the stream has ended. It returns nil if that happened
// between two messages, and an error wrapping [ErrTruncated] otherwise.
func (p *Parser) End() error {
	if p.failed != nil {
		return p.failed
	}
	if p.inMsg == 0 {
		return nil
	}
	where, got := "in the 2-byte header length", len(p.buf)
	switch p.state {
	case wantHeader:
		where = "in the JSON header"
	case wantContent:
		where, got = "in the content", len(p.msg.Content)
	}
	return p.fail(fmt.Errorf("%w: the stream ended %s, after %d of %d bytes", ErrTruncated, where, got, p.need))
}
