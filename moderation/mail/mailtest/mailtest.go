// Package mailtest is a real SMTP server for tests, on loopback in the test
// process (github.com/emersion/go-smtp): it receives what Parley sends,
// parses every message (headers, text and HTML parts), and can refuse
// messages on demand to exercise retries.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted, parsed.
type Message struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string // decoded
	Text    string
	HTML    string
	Raw     []byte
}

// Server is the running SMTP server.
type Server struct {
	// Addr is host:port; URL is what -smtp-url takes.
	Addr string
	URL  string

	mu       sync.Mutex
	msgs     []Message
	refuse   []*smtp.SMTPError // answers to the next DATA commands
	hold     chan struct{}     // when set, DATA waits on it before answering
	entered  chan struct{}     // signalled when a DATA waits on hold
	received chan struct{}
	srv      *smtp.Server
}

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), received: make(chan struct{}, 1<<16)}
	s.URL = "smtp://" + s.Addr + "?tls=none"
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Refuse makes the next DATA commands fail with these codes (451 is a
// temporary failure, 550 a permanent one), one code per message.
func (s *Server) Refuse(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		enh := smtp.EnhancedCode{c / 100, 0, 0}
		s.refuse = append(s.refuse, &smtp.SMTPError{Code: c, EnhancedCode: enh, Message: fmt.Sprintf("refused by the test (%d)", c)})
	}
}

// Hold makes every DATA wait, once the message is read, until Release;
// Entered is signalled each time one starts waiting. The message counts
// as accepted: it is recorded before the wait, as a server that took it
// but whose 250 never reached the client.
func (s *Server) Hold() (entered <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = make(chan struct{})
	s.entered = make(chan struct{}, 1<<10)
	return s.entered
}

// Release lets held and later DATA commands answer at once.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the accepted messages to an address.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// Wait waits until n messages in all were accepted, or fails the test
// after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %d emails, got %d", timeout, n, len(s.Messages()))
		}
		select {
		case <-s.received:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := x.s
	s.mu.Lock()
	if len(s.refuse) > 0 {
		e := s.refuse[0]
		s.refuse = s.refuse[1:]
		s.mu.Unlock()
		return e
	}
	m, perr := Parse(raw)
	if perr != nil {
		s.mu.Unlock()
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable: " + perr.Error()}
	}
	m.From, m.To = x.from, append([]string(nil), x.to...)
	s.msgs = append(s.msgs, m)
	hold, entered := s.hold, s.entered
	s.mu.Unlock()
	select {
	case s.received <- struct{}{}:
	default:
	}
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	return nil
}

// Parse reads a message: headers, subject, and its text and HTML parts
// (a single part, or multipart/alternative), transfer encodings undone.
func Parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return m, fmt.Errorf("content-type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return m, err
		}
		setPart(&m, mt, body)
		return m, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, err
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		// multipart undoes quoted-printable itself.
		body, err := decode(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return m, err
		}
		setPart(&m, pt, body)
	}
	return m, nil
}

func setPart(m *Message, mediaType, body string) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		m.Text = body
	case "text/html":
		m.HTML = body
	}
}

func decode(r io.Reader, encoding string) (string, error) {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}
