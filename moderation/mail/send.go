package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/parley/parley/schema"
)

// send sends the claimed rows over one SMTP conversation and returns each
// row's outcome. A row counts as sent only once the server answered its
// DATA with 250: that is when the server took responsibility for it.
func (m *Mailer) send(ctx context.Context, rows []schema.OutMail) []error {
	errs := make([]error, len(rows))
	msgs := make([]*gomail.Msg, len(rows))
	var ready []*gomail.Msg
	for i, row := range rows {
		msg, err := m.build(row)
		if err != nil {
			errs[i] = badMessage{err}
			continue
		}
		msgs[i] = msg
		ready = append(ready, msg)
	}
	if len(ready) == 0 {
		return errs
	}
	opts := []gomail.Option{gomail.WithPort(m.smtp.port), gomail.WithTimeout(m.cfg.Timeout), gomail.WithTLSPolicy(m.smtp.policy)}
	if m.smtp.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if m.smtp.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.smtp.user), gomail.WithPassword(m.smtp.pass))
	}
	if h := heloName(m.from.Address); h != "" {
		opts = append(opts, gomail.WithHELO(h))
	}
	start := time.Now()
	c, err := gomail.NewClient(m.smtp.host, opts...)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		defer cancel()
		err = c.DialWithContext(ctx)
		if err == nil {
			defer c.Close()
			// One message at a time, so each answer is the row's own.
			for i, msg := range msgs {
				switch {
				case msg == nil:
				case time.Since(start) > m.cfg.Timeout:
					errs[i] = errors.New("not attempted: the conversation ran out of time")
				default:
					errs[i] = c.Send(msg)
				}
			}
			return errs
		}
	}
	err = fmt.Errorf("connect to %s: %w", m.Describe(), err)
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// heloName is the domain of the sender, what the SMTP greeting names.
func heloName(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// build makes a row into a MIME message: text, and HTML as its alternative
// when there is one. Its Message-ID is the row's, so that a mail sent twice
// after a crash is recognisably the same message.
func (m *Mailer) build(row schema.OutMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	if err := msg.To(row.To); err != nil {
		return nil, err
	}
	msg.Subject(row.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("parley.%d.%d@%s", row.ID, row.CreatedMS, heloName(m.from.Address)))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	h := row.Headers()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		msg.SetGenHeader(gomail.Header(k), h[k])
	}
	msg.SetBodyString(gomail.TypeTextPlain, row.Text)
	if row.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, row.HTML)
	}
	return msg, nil
}
