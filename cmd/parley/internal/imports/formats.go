package imports

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/schema"
)

// A reader reads one format from its start and emits its comments in
// order; h receives what is not a comment (a Parley export's header).
type reader func(in io.Reader, h *restorer, emit func(*Comment) error) error

var readers = map[string]reader{
	"disqus":    readDisqus,
	"wordpress": readWordPress,
	"remark42":  readRemark42,
	"commento":  readCommento,
	"isso":      readIsso,
	"parley":    readParley,
}

// parseTime reads the times the formats write: RFC 3339 with or without
// fractions, or a zone-less "2006-01-02T15:04:05" or "2006-01-02
// 15:04:05", which every one of them means as UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q not understood", s)
}

// --- Disqus ---

const dsqNS = "http://disqus.com/disqus-internals"

type dsqRef struct {
	ID string `xml:"http://disqus.com/disqus-internals id,attr"`
}

type dsqThread struct {
	ID    string `xml:"http://disqus.com/disqus-internals id,attr"`
	Ident string `xml:"id"`
	Link  string `xml:"link"`
	Title string `xml:"title"`
}

type dsqPost struct {
	ID        string `xml:"http://disqus.com/disqus-internals id,attr"`
	Message   string `xml:"message"`
	CreatedAt string `xml:"createdAt"`
	IsDeleted string `xml:"isDeleted"`
	IsSpam    string `xml:"isSpam"`
	Author    struct {
		Name     string `xml:"name"`
		Email    string `xml:"email"`
		Username string `xml:"username"`
	} `xml:"author"`
	IP     string  `xml:"ipAddress"`
	Thread dsqRef  `xml:"thread"`
	Parent *dsqRef `xml:"parent"`
}

func readDisqus(in io.Reader, _ *restorer, emit func(*Comment) error) error {
	dec := xml.NewDecoder(in)
	threads := map[string]dsqThread{}
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("disqus XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "disqus" {
					return fmt.Errorf("disqus XML: the root element is <%s>, not <disqus>", t.Name.Local)
				}
				continue
			}
			if depth != 2 {
				continue
			}
			switch t.Name.Local {
			case "thread":
				var th dsqThread
				if err := dec.DecodeElement(&th, &t); err != nil {
					return fmt.Errorf("disqus thread: %w", err)
				}
				threads[th.ID] = th
			case "post":
				var p dsqPost
				if err := dec.DecodeElement(&p, &t); err != nil {
					return fmt.Errorf("disqus post: %w", err)
				}
				if err := emit(disqusComment(&p, threads)); err != nil {
					return err
				}
			default:
				if err := dec.Skip(); err != nil {
					return err
				}
			}
			depth--
		case xml.EndElement:
			depth--
		}
	}
}

func disqusComment(p *dsqPost, threads map[string]dsqThread) *Comment {
	c := &Comment{SourceID: p.ID, Author: p.Author.Name, Email: p.Author.Email, IP: p.IP,
		Body: htmlText(p.Message, false), Status: schema.StatusApproved}
	if c.Author == "" {
		c.Author = p.Author.Username
	}
	if p.Parent != nil {
		c.ParentID = p.Parent.ID
	}
	th, ok := threads[p.Thread.ID]
	if !ok {
		c.Skip = fmt.Sprintf("thread %s is not in the file", p.Thread.ID)
		return c
	}
	c.URL, c.Title = strings.TrimSpace(th.Link), th.Title
	switch {
	case xmlTrue(p.IsSpam):
		c.Status = schema.StatusSpam
	case xmlTrue(p.IsDeleted):
		c.Status = schema.StatusDeleted
	}
	t, err := parseTime(p.CreatedAt)
	if err != nil {
		c.Skip = err.Error()
	}
	c.Created = t
	return c
}

func xmlTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "true" || s == "1"
}

// --- WordPress (WXR) ---

type wxrItem struct {
	Title    string       `xml:"title"`
	Link     string       `xml:"link"`
	PostID   string       `xml:"post_id"`
	Comments []wxrComment `xml:"comment"`
}

type wxrComment struct {
	ID       string `xml:"comment_id"`
	Author   string `xml:"comment_author"`
	Email    string `xml:"comment_author_email"`
	IP       string `xml:"comment_author_IP"`
	Date     string `xml:"comment_date"`
	DateGMT  string `xml:"comment_date_gmt"`
	Content  string `xml:"comment_content"`
	Approved string `xml:"comment_approved"`
	Type     string `xml:"comment_type"`
	Parent   string `xml:"comment_parent"`
}

func readWordPress(in io.Reader, _ *restorer, emit func(*Comment) error) error {
	dec := xml.NewDecoder(in)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("WXR: %w", err)
		}
		t, ok := tok.(xml.StartElement)
		if !ok || t.Name.Local != "item" {
			continue
		}
		var it wxrItem
		if err := dec.DecodeElement(&it, &t); err != nil {
			return fmt.Errorf("WXR item: %w", err)
		}
		for i := range it.Comments {
			if err := emit(wxrToComment(&it, &it.Comments[i])); err != nil {
				return err
			}
		}
	}
}

func wxrToComment(it *wxrItem, w *wxrComment) *Comment {
	c := &Comment{SourceID: strings.TrimSpace(w.ID), URL: strings.TrimSpace(it.Link), Title: it.Title,
		Author: html.UnescapeString(w.Author), Email: w.Email, IP: strings.TrimSpace(w.IP),
		Body: htmlText(w.Content, true)}
	if p := strings.TrimSpace(w.Parent); p != "" && p != "0" {
		c.ParentID = p
	}
	switch strings.TrimSpace(w.Type) {
	case "", "comment":
	case "pingback", "trackback":
		c.Skip = w.Type + ": not a reader's comment"
		return c
	default:
		c.Skip = fmt.Sprintf("comment type %q is not a reader's comment", w.Type)
		return c
	}
	switch strings.TrimSpace(w.Approved) {
	case "1", "approve":
		c.Status = schema.StatusApproved
	case "0", "hold":
		c.Status = schema.StatusPending
	case "spam":
		c.Status = schema.StatusSpam
	case "trash", "post-trashed":
		c.Status = schema.StatusDeleted
	default:
		c.Skip = fmt.Sprintf("comment_approved %q not understood", w.Approved)
		return c
	}
	date := strings.TrimSpace(w.DateGMT)
	if date == "" || strings.HasPrefix(date, "0000") {
		// WordPress leaves the GMT date empty for some imported comments:
		// the local date is then the only time there is.
		date = w.Date
	}
	t, err := parseTime(date)
	if err != nil {
		c.Skip = err.Error()
	}
	c.Created = t
	return c
}

// --- Remark42 ---

type r42Comment struct {
	ID      string `json:"id"`
	PID     string `json:"pid"`
	Text    string `json:"text"`
	Orig    string `json:"orig"`
	Locator struct {
		URL string `json:"url"`
	} `json:"locator"`
	User struct {
		Name  string `json:"name"`
		ID    string `json:"id"`
		Block bool   `json:"block"`
	} `json:"user"`
	Score  int64  `json:"score"`
	Time   string `json:"time"`
	Delete bool   `json:"delete"`
	Title  string `json:"title"`
	Edit   *struct {
		Time string `json:"time"`
	} `json:"edit"`
}

func readRemark42(in io.Reader, _ *restorer, emit func(*Comment) error) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if line == 1 {
			var meta struct {
				Version *int `json:"version"`
			}
			if err := json.Unmarshal(b, &meta); err != nil || meta.Version == nil {
				return errors.New("remark42: the first line is not a backup's header {\"version\":…}")
			}
			continue
		}
		var r r42Comment
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("remark42 line %d: %w", line, err)
		}
		c := &Comment{SourceID: r.ID, ParentID: r.PID, URL: r.Locator.URL, Title: r.Title, Author: r.User.Name,
			Body: r.Orig, Status: schema.StatusApproved, Score: r.Score}
		switch {
		case r.Delete:
			c.Status = schema.StatusDeleted
		case r.User.Block:
			c.Status = schema.StatusSpam
		}
		if c.Body == "" && r.Text != "" {
			c.Body = htmlText(r.Text, false)
		}
		t, err := parseTime(r.Time)
		if err != nil {
			c.Skip = err.Error()
		}
		c.Created = t
		if r.Edit != nil {
			if et, err := parseTime(r.Edit.Time); err == nil {
				c.Edited = &et
			}
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return sc.Err()
}

// --- Commento ---

type commentoComment struct {
	CommentHex   string `json:"commentHex"`
	Domain       string `json:"domain"`
	URL          string `json:"url"`
	CommenterHex string `json:"commenterHex"`
	Markdown     string `json:"markdown"`
	ParentHex    string `json:"parentHex"`
	Score        int64  `json:"score"`
	State        string `json:"state"`
	CreationDate string `json:"creationDate"`
	Deleted      bool   `json:"deleted"`
}

type commentoCommenter struct {
	CommenterHex string `json:"commenterHex"`
	Email        string `json:"email"`
	Name         string `json:"name"`
}

// readCommento reads {"version":1,"comments":[…],"commenters":[…]}. The
// commenters come after the comments, so the file is copied to a
// temporary file and read twice, one element at a time: memory holds the
// commenters, not the comments.
func readCommento(in io.Reader, _ *restorer, emit func(*Comment) error) error {
	f, err := os.CreateTemp("", "parley-commento-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, in); err != nil {
		return fmt.Errorf("commento: copy the file: %w", err)
	}
	type who struct{ name, email string }
	people := map[string]who{}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	err = commentoArray(f, "commenters", func(dec *json.Decoder) error {
		var p commentoCommenter
		if err := dec.Decode(&p); err != nil {
			return err
		}
		people[p.CommenterHex] = who{p.Name, p.Email}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return commentoArray(f, "comments", func(dec *json.Decoder) error {
		var r commentoComment
		if err := dec.Decode(&r); err != nil {
			return err
		}
		c := &Comment{SourceID: r.CommentHex, Body: r.Markdown, Score: r.Score}
		if r.ParentHex != "root" {
			c.ParentID = r.ParentHex
		}
		c.URL = r.URL
		if r.Domain != "" {
			c.URL = "https://" + r.Domain + r.URL
		}
		if p, ok := people[r.CommenterHex]; ok && r.CommenterHex != "anonymous" {
			c.Author, c.Email = p.name, p.email
		}
		switch r.State {
		case "approved":
			c.Status = schema.StatusApproved
		case "unapproved":
			c.Status = schema.StatusPending
		case "flagged":
			c.Status = schema.StatusSpam
		default:
			c.Skip = fmt.Sprintf("state %q not understood", r.State)
		}
		// Commento's export marks a deletion only this way.
		if r.Deleted || (r.Markdown == "[deleted]" && r.CommenterHex == "anonymous") {
			c.Status, c.Body, c.Author, c.Email = schema.StatusDeleted, "", "", ""
		}
		t, err := parseTime(r.CreationDate)
		if err != nil && c.Skip == "" {
			c.Skip = err.Error()
		}
		c.Created = t
		return emit(c)
	})
}

// commentoArray calls each once per element of the top-level object's
// array named key, with the decoder before the element; the other values
// are skipped token by token, never held whole.
func commentoArray(in io.Reader, key string, each func(*json.Decoder) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<16))
	bad := func(err error) error { return fmt.Errorf("commento JSON: %w", err) }
	tok, err := dec.Token()
	if err != nil {
		return bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("commento JSON: the file is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		name, _ := tok.(string)
		if name != key {
			if err := skipJSON(dec); err != nil {
				return bad(err)
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return bad(err)
		}
		if tok == nil {
			continue
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return fmt.Errorf("commento JSON: %q is not a list", key)
		}
		for dec.More() {
			if err := each(dec); err != nil {
				var ue *json.UnmarshalTypeError
				if errors.As(err, &ue) || isSyntax(err) {
					return bad(err)
				}
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	return nil
}

func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)
}

// skipJSON reads one value, of any depth, without keeping it.
func skipJSON(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// --- Isso ---

// readIsso reads Isso's SQLite database; a stream is first copied to a
// temporary file, since SQLite reads files.
func readIsso(in io.Reader, _ *restorer, emit func(*Comment) error) error {
	f, err := os.CreateTemp("", "parley-isso-*.db")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return fmt.Errorf("isso: copy the database: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+f.Name()+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT c.id, c.parent, c.created, c.modified, c.mode, c.remote_addr, c.text,
		c.author, c.email, c.likes, c.dislikes, t.uri, t.title
		FROM comments c JOIN threads t ON t.id = c.tid ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("isso: not an Isso database (%v)", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var parent sql.NullInt64
		var created float64
		var modified sql.NullFloat64
		var mode sql.NullInt64
		var addr, text, author, email, uri, title sql.NullString
		var likes, dislikes sql.NullInt64
		if err := rows.Scan(&id, &parent, &created, &modified, &mode, &addr, &text, &author, &email, &likes, &dislikes, &uri, &title); err != nil {
			return fmt.Errorf("isso: %w", err)
		}
		c := &Comment{SourceID: strconv.FormatInt(id, 10), URL: uri.String, Title: title.String,
			Author: html.UnescapeString(author.String), Email: html.UnescapeString(email.String), IP: addr.String,
			Body: text.String, Up: likes.Int64, Down: dislikes.Int64, Created: epoch(created)}
		if parent.Valid {
			c.ParentID = strconv.FormatInt(parent.Int64, 10)
		}
		if modified.Valid {
			t := epoch(modified.Float64)
			c.Edited = &t
		}
		switch mode.Int64 {
		case 1:
			c.Status = schema.StatusApproved
		case 2:
			c.Status = schema.StatusPending
		case 4:
			// Isso keeps the address of a deleted comment's author: the
			// comment is gone, so is the address.
			c.Status, c.Email = schema.StatusDeleted, ""
		default:
			c.Skip = fmt.Sprintf("mode %d not understood", mode.Int64)
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

func epoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
}
