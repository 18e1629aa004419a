package message

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
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
	// The content is read a piece at a time, as by the Parser: a peer
	// that announces a megabyte and sends ten bytes costs one piece of
	// 16 KiB, not a megabyte.
	var full [][]byte
	for got := 0; ; {
		piece := make([]byte, min(length-got, pieceSize))
		n, err := io.ReadFull(d.r, piece)
		got += n
		if err != nil {
			return Message{}, truncated(err, "in the content", got, length)
		}
		if got == length {
			m.Content = join(full, piece, length)
			return m, nil
		}
		full = append(full, piece)
	}
}

// pieceSize is the most content a Parser or a Decoder sets aside at once:
// content arrives into pieces of this size at most, each taken when the
// bytes for it are about to arrive, so the memory a message holds follows
// what has arrived, not what its header announced.
const pieceSize = 16 << 10

// piecePool keeps the pieces of the messages a Parser has finished with,
// whole or abandoned, for the next ones: a server whose clients announce
// big requests and vanish, wave after wave, reuses the memory the last
// wave left instead of taking more while the garbage collector catches up.
var piecePool = sync.Pool{New: func() any { return new([pieceSize]byte) }}

// join returns the pieces of a message's content, the full ones and the
// last, as one slice of length bytes: the last piece itself when it is the
// only one, as it was allocated at the right size.
func join(full [][]byte, last []byte, length int) []byte {
	switch {
	case len(full) == 0 && last == nil:
		return []byte{}
	case len(full) == 0:
		return last
	}
	content := make([]byte, 0, length)
	for _, piece := range full {
		content = append(content, piece...)
	}
	return append(content, last...)
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
// header is in, before any of the content. The content it holds grows
// with what arrives, 16 KiB at a time at most, whatever the header
// announced; Expected says what the header announced, so that a server
// can decide whether it has room for the message before the content
// comes.
//
// After an error the Parser is stuck: it returns the same error again.
type Parser struct {
	// MaxContent is the largest content-length accepted; zero means
	// DefaultMaxContent.
	MaxContent int

	state    int
	need     int      // bytes the current part needs
	buf      []byte   // the 2-byte prefix or the JSON header, so far
	msg      Message  // the message being received, without its content
	piece    []byte   // the last piece of its content so far (see pieceSize)
	full     [][]byte // the pieces before it, full
	got      int      // bytes of content so far
	expected int      // its size as announced so far: see Expected
	inMsg    int      // bytes of the current message received so far
	failed   error
}

// keptHeader is the largest header buffer a Parser keeps for the next
// message; a bigger one, from an unusual header, is let go.
const keptHeader = 1 << 10

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
		if p.state == wantContent {
			take := p.fill(data)
			data = data[take:]
			p.inMsg += take
			if p.got < p.need {
				continue // and data is empty
			}
		} else {
			if p.state == wantPrefix && p.need == 0 {
				p.need = 2
			}
			first := len(p.buf) == 0
			take := min(p.need-len(p.buf), len(data))
			p.buf = append(p.buf, data[:take]...)
			data = data[take:]
			p.inMsg += take
			if p.state == wantHeader && first {
				// The header's first byte: reject what is not JSON at once.
				if err := checkHeaderStart(p.buf[0]); err != nil {
					return done, p.fail(err)
				}
			}
			if len(p.buf) < p.need {
				continue // and data is empty
			}
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

// fill adds the content bytes at the start of data to the message's
// pieces, and returns how many it took. A piece is taken when the first
// byte for it arrives: content of at most pieceSize bytes goes into one
// piece of its size, which becomes the message's Content; bigger content
// goes into pieces of pieceSize from piecePool, joined into one slice at
// the end, and given back.
func (p *Parser) fill(data []byte) int {
	take := min(p.need-p.got, len(data))
	for rest := data[:take]; len(rest) > 0; {
		switch {
		case p.need <= pieceSize && p.piece == nil:
			p.piece = make([]byte, 0, p.need)
		case p.piece == nil:
			p.piece = piecePool.Get().(*[pieceSize]byte)[:0]
		case len(p.piece) == cap(p.piece):
			p.full = append(p.full, p.piece)
			p.piece = piecePool.Get().(*[pieceSize]byte)[:0]
		}
		n := min(cap(p.piece)-len(p.piece), len(rest))
		p.piece = append(p.piece, rest[:n]...)
		rest = rest[n:]
		p.got += n
	}
	return take
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
		p.expected = 2 + p.need
		p.buf, p.state = p.buf[:0], wantHeader
		return nil, nil
	case wantHeader:
		m, length, err := parseHeader(p.buf, orDefault(p.MaxContent))
		if err != nil {
			return nil, err
		}
		p.buf = p.buf[:0]
		if cap(p.buf) > keptHeader {
			p.buf = nil
		}
		p.msg, p.need, p.state = m, length, wantContent
		p.expected += length
		if length > 0 {
			return nil, nil
		}
	}
	// The content is complete (or empty): the message is done.
	m := p.msg
	m.Content = join(p.full, p.piece, p.need)
	p.release()
	p.msg, p.got, p.need, p.expected, p.inMsg, p.state = Message{}, 0, 0, 0, 0, wantPrefix
	return &m, nil
}

// release gives the pieces of the message's content back to piecePool,
// if they came from it.
func (p *Parser) release() {
	if p.state == wantContent && p.need > pieceSize {
		for _, piece := range append(p.full, p.piece) {
			if piece != nil {
				piecePool.Put((*[pieceSize]byte)(piece[:pieceSize]))
			}
		}
	}
	p.piece, p.full = nil, nil
}

func (p *Parser) fail(err error) error {
	p.failed = err
	p.release()
	p.buf, p.msg, p.expected = nil, Message{}, 0
	return err
}

// Pending returns how many bytes of an unfinished message p has received:
// zero between messages. A server uses it to tell a client that is
// silent between requests from one that stalls in the middle of one.
func (p *Parser) Pending() int { return p.inMsg }

// Expected returns how many bytes the unfinished message will have in
// all, as far as p knows yet: 2 plus the header's length once the 2-byte
// prefix is in, plus the content-length once the header is; before that,
// what has arrived. It is zero between messages and after an error. A
// server uses it to set memory aside for a request before its content
// arrives, or to refuse it.
func (p *Parser) Expected() int {
	if p.failed != nil {
		return 0
	}
	if p.expected == 0 {
		return p.inMsg
	}
	return p.expected
}

// End tells p that the stream has ended. It returns nil if that happened
// between two messages, and an error wrapping [ErrTruncated] otherwise;
// then p lets go of the unfinished message, and its memory. A server
// calls End whenever it stops reading a stream, for whatever reason.
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
		where, got = "in the content", p.got
	}
	return p.fail(fmt.Errorf("%w: the stream ended %s, after %d of %d bytes", ErrTruncated, where, got, p.need))
}
