package handlers

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// commentView is what readers and moderators alike see of a comment: the
// first fields of both views, in their order (embedding keeps it), so that
// the two can never disagree on a shared field.
type commentView struct {
	ID        int64      `json:"id"`
	ParentID  *int64     `json:"parent_id"`
	Author    string     `json:"author"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
}

func toCommentView(c *schema.Comment) commentView {
	v := commentView{ID: c.ID, Author: c.Author, Body: c.Body, CreatedAt: c.CreatedAt(), EditedAt: c.EditedAt()}
	if c.ParentID != nil {
		v.ParentID = new(*c.ParentID)
	}
	return v
}

// publicComment is a comment as readers see it.
type publicComment struct {
	commentView
	Score     int64  `json:"score"`
	Upvotes   int64  `json:"upvotes"`
	Downvotes int64  `json:"downvotes"`
	Status    string `json:"status"`
}

// toPublic shows a comment to readers. The public never learns a verdict:
// anything held, rejected or spam is "pending", except that a shadow-banned
// author sees their own comments as published.
func toPublic(c *schema.Comment) publicComment {
	p := publicComment{commentView: toCommentView(c), Score: c.Score, Upvotes: c.Upvotes, Downvotes: c.Downvotes}
	switch {
	case c.Status == schema.StatusApproved, c.Shadow:
		p.Status = schema.StatusApproved
	case c.Status == schema.StatusDeleted:
		p.Status, p.Author, p.Body = schema.StatusDeleted, "", ""
	default:
		p.Status = schema.StatusPending
	}
	return p
}

type commentInput struct {
	Author          string `json:"author"`
	Email           string `json:"email"`
	Body            string `json:"body"`
	ParentID        *int64 `json:"parent_id"`
	CaptchaID       string `json:"captcha_id"`
	CaptchaSolution string `json:"captcha_solution"`
	// NotifyReplies asks for replies by email (double opt-in), in Lang.
	NotifyReplies bool   `json:"notify_replies"`
	Lang          string `json:"lang"`
}

// createComment validates the post before anything touches the database,
// reads what the policy needs in one call, lets moderation decide, and
// writes everything in one transaction of the group-commit writer: the
// article if new, the comment, the captcha claim, the queue counters, and
// the webhook events and one-time links announcing it.
func (s *Server) createComment(w http.ResponseWriter, r *http.Request) error {
	readerID, err := s.reader(r)
	if err != nil {
		return err
	}
	ip := limitKey(s.clientIP(r))
	if err := s.limits.comments.check("ip:" + ip); err != nil {
		return err
	}
	if readerID != "" {
		if err := s.limits.comments.check("reader:" + readerID); err != nil {
			return err
		}
	}
	site, err := s.site(r)
	if err != nil {
		return err
	}
	key := routeVar(r, "article")
	if !validArticleKey(key) {
		return errArticleKey()
	}
	if !site.Settings.CommentsOpen {
		return errCommentsClosed()
	}
	var in commentInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	body, msg := checkText(in.Body, 1, maxBody, true)
	if msg != "" {
		fields["body"] = msg
	}
	author, msg := checkText(in.Author, 1, maxAuthor, false)
	if msg != "" {
		fields["author"] = msg
	}
	email, msg := checkEmail(in.Email)
	if msg != "" {
		fields["email"] = msg
	}
	if in.CaptchaID == "" {
		fields["captcha_id"] = "required: get a captcha from POST /api/v1/captchas"
	}
	if strings.TrimSpace(in.CaptchaSolution) == "" {
		fields["captcha_solution"] = "required"
	}
	if in.NotifyReplies {
		switch {
		case !s.cfg.Mail.Enabled():
			return errEmailOff("notify_replies")
		case email == "" && fields["email"] == "":
			fields["email"] = "required to be emailed replies (notify_replies)"
		}
	}
	if len(in.Lang) > 35 {
		fields["lang"] = "a language tag such as en or fr-CA"
	}
	var parentID int64
	if in.ParentID != nil {
		if parentID = *in.ParentID; parentID <= 0 {
			fields["parent_id"] = "no such comment on this article"
		}
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	if !validCaptchaID(in.CaptchaID) {
		return errCaptcha("the captcha expired or was used: solve a new one")
	}
	// IP bans and the posting-rate rule group addresses as the rate limits
	// do: an IPv6 subscriber holds a whole /64.
	who := schema.Author{EmailHash: s.keys.Email(email), IPHash: s.keys.IP(ip), ReaderID: readerID}
	verdict, err := s.assessor.Assess(r.Context(), moderation.Draft{
		Site: site, ArticleKey: key, ParentID: parentID, Body: body, Author: author, Who: who})
	if err != nil {
		return err
	}
	article := verdict.Article
	switch {
	case article == nil && site.Settings.StrictArticles:
		return errNotFound("article " + quote(key))
	case article != nil && !article.CommentsOpen:
		return errCommentsClosed()
	}
	var parent *int64
	if in.ParentID != nil {
		p := verdict.Parent
		if p == nil || article == nil || p.ArticleID != article.ID || p.Status != schema.StatusApproved {
			return errValidation(map[string]string{"parent_id": "no such comment on this article"})
		}
		parent = new(p.ID)
	}
	editToken := randomToken(32)
	c := &schema.Comment{
		SiteID: site.ID, ParentID: parent, ReaderID: readerID,
		Author: author, EmailHash: who.EmailHash, IPHash: who.IPHash, Body: body, BodyKey: verdict.BodyKey,
		Status: verdict.Status, Reasons: verdict.Reasons, EditTokenHash: tokenHash(editToken), Shadow: verdict.Shadow,
	}
	if article != nil {
		c.ArticleID = article.ID
	}
	var subscribe *schema.Subscribe
	if in.NotifyReplies {
		if subscribe, err = s.cfg.Mail.Subscribe(email, who.EmailHash, cmp.Or(in.Lang, site.Settings.Language), key, article); err != nil {
			return err
		}
	}
	err = s.store.PostComment(r.Context(), c, schema.PostOptions{
		ArticleKey: key, Article: article,
		CaptchaID: in.CaptchaID, Check: captchaChecker(in.CaptchaSolution),
		Announce: s.notify.Held(site), Subscribe: subscribe,
		Contact: contact(site, email), Statement: s.queue.PostStatement(site, email),
	})
	switch {
	case errors.Is(err, schema.ErrCaptchaUnknown):
		return errCaptcha("the captcha expired or was used: solve a new one")
	case errors.Is(err, schema.ErrCaptchaWrong):
		return errCaptcha("the captcha answer is wrong: solve a new one")
	case errors.Is(err, schema.ErrNotFound):
		return errValidation(map[string]string{"parent_id": "no such comment on this article"})
	case err != nil:
		return err
	}
	s.metrics.comments.WithLabelValues(c.Status).Inc()
	if c.Status == schema.StatusPending {
		s.notify.Wake()
	}
	answer := map[string]any{"comment": toPublic(c), "edit_token": editToken}
	if subscribe != nil {
		answer["subscription"] = subscribe.State
		if subscribe.State == schema.SubscribeConfirmSent {
			s.cfg.Mail.Wake()
		}
	}
	writeJSON(w, http.StatusCreated, answer)
	return nil
}

// contact is the email kept with a comment for statements of reasons:
// only under eu_dsa, which owes them.
func contact(site *schema.Site, email string) string {
	if !site.Settings.EUDSA || !moderation.Mailable(email) {
		return ""
	}
	return email
}

func errCommentsClosed() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "comments_closed", Message: "comments are closed on this article"}
}

type threadResponse struct {
	Comments   []publicComment `json:"comments"`
	NextCursor *string         `json:"next_cursor"`
	Count      int64           `json:"count"`
	// EmailNotifications tells the widget whether to offer "email me
	// replies": the server sends email.
	EmailNotifications bool `json:"email_notifications"`
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.reads.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	readerID, err := s.reader(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	sort := q.Get("sort")
	switch sort {
	case "":
		sort = schema.SortOldest
	case schema.SortOldest, schema.SortNewest, schema.SortTop:
	default:
		return errBadRequest("sort must be oldest, newest or top")
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return errBadRequest("limit must be a number from 1 to 200")
		}
		limit = n
	}
	var after *schema.Cursor
	if v := q.Get("cursor"); v != "" {
		c, err := schema.ParseCursor(v, sort)
		if err != nil {
			return errBadRequest("invalid cursor: %v; start again without one", err)
		}
		after = &c
	}
	site, id, err := s.articleID(r, false)
	if err != nil {
		return err
	}
	if id == 0 {
		writeJSON(w, http.StatusOK, threadResponse{Comments: []publicComment{}, EmailNotifications: s.cfg.Mail.Enabled()})
		return nil
	}
	// A shadow-banned reader gets a page of their own; everyone else
	// shares the cached one.
	shadowed := false
	if readerID != "" {
		if shadowed, err = s.store.HasShadowComments(r.Context(), site.ID, readerID); err != nil {
			return err
		}
	}
	key := pageKey{article: id, sort: sort, cursor: q.Get("cursor"), limit: limit}
	version := s.store.ThreadVersion(id)
	if !shadowed {
		if line, ok := s.pages.get(key, version); ok {
			writeJSONLine(w, http.StatusOK, line)
			return nil
		}
	}
	article, err := s.store.ArticleByID(r.Context(), id)
	if err != nil {
		return err
	}
	rows, next, err := s.store.Thread(r.Context(), id, sort, after, limit)
	if err != nil {
		return err
	}
	resp := threadResponse{Comments: make([]publicComment, 0, len(rows)), Count: article.ApprovedCount, EmailNotifications: s.cfg.Mail.Enabled()}
	for i := range rows {
		resp.Comments = append(resp.Comments, toPublic(&rows[i]))
	}
	if next != nil {
		c := next.String()
		resp.NextCursor = &c
	}
	if shadowed {
		if err := s.mergeShadow(r, site, article, readerID, sort, after, next, &resp); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	line := append(body, '\n')
	s.pages.put(key, version, line)
	writeJSONLine(w, http.StatusOK, line)
	return nil
}

// mergeShadow shows a shadow-banned reader their own hidden comments in
// the page they belong to, as if they were published.
func (s *Server) mergeShadow(r *http.Request, site *schema.Site, article *schema.Article, readerID, sort string, after, next *schema.Cursor, resp *threadResponse) error {
	shadow, err := s.store.ShadowComments(r.Context(), site.ID, article.ID, readerID)
	if err != nil || len(shadow) == 0 {
		return err
	}
	// Only the oldest and newest orders place them: by id, within the page.
	for i := range shadow {
		c := &shadow[i]
		resp.Count++
		inPage := true
		switch sort {
		case schema.SortNewest:
			inPage = (after == nil || c.ID < after.ID) && (next == nil || c.ID > next.ID)
		case schema.SortTop:
			inPage = next == nil
		default:
			inPage = (after == nil || c.ID > after.ID) && (next == nil || c.ID < next.ID)
		}
		if !inPage {
			continue
		}
		p := toPublic(c)
		pos := len(resp.Comments)
		for j, x := range resp.Comments {
			if (sort == schema.SortNewest && x.ID < c.ID) || (sort == schema.SortOldest && x.ID > c.ID) {
				pos = j
				break
			}
		}
		resp.Comments = append(resp.Comments[:pos], append([]publicComment{p}, resp.Comments[pos:]...)...)
	}
	return nil
}

// commentID is the route's {id}; anything but a positive number names no
// comment.
func commentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(routeVar(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound("comment")
	}
	return id, nil
}

// commentByID is the comment of the route's {id}.
func (s *Server) commentByID(r *http.Request) (*schema.Comment, error) {
	id, err := commentID(r)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Comment(r.Context(), id)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, errNotFound("comment")
	}
	return c, err
}

// ownComment returns the route's comment when the request carries its edit
// token and the site's edit window is still open.
func (s *Server) ownComment(r *http.Request) (*schema.Comment, *schema.Site, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil, nil, errUnauthorized("send the comment's edit token as Authorization: Bearer <edit_token>")
	}
	// A token that does not match and a comment that does not exist get
	// the same answer: otherwise any junk token would tell which ids are
	// held comments, which the public API never shows.
	wrong := errForbidden("this edit token does not belong to the comment")
	c, err := s.commentByID(r)
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil, wrong
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(tokenHash(tok)), []byte(c.EditTokenHash)) != 1 {
		return nil, nil, wrong
	}
	if c.Status == schema.StatusDeleted {
		return nil, nil, errNotFound("comment")
	}
	site, err := s.store.SiteByID(r.Context(), c.SiteID)
	if err != nil {
		return nil, nil, err
	}
	window := time.Duration(site.Settings.EditWindowSeconds) * time.Second
	if s.store.Now().Sub(c.CreatedAt()) > window {
		return nil, nil, &apiError{Status: http.StatusForbidden, Code: "edit_window_closed",
			Message: "comments can be changed for " + window.String() + " after posting"}
	}
	return c, site, nil
}

// limitChange applies the edit limits to an edit or deletion its token
// allows, per address group and per the comment's reader, as for new
// comments: a comment cannot be rewritten thousands of times a minute.
// Requests without the token are not counted: they change nothing, and
// a guess at a 256-bit token does not need a limit to fail.
func (s *Server) limitChange(r *http.Request, c *schema.Comment) error {
	if err := s.limits.edits.check("ip:" + limitKey(s.clientIP(r))); err != nil {
		return err
	}
	if c.ReaderID == "" {
		return nil
	}
	return s.limits.edits.check("reader:" + c.ReaderID)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, site, err := s.ownComment(r)
	if err != nil {
		return err
	}
	if err := s.limitChange(r, c); err != nil {
		return err
	}
	body, msg := checkText(in.Body, 1, maxBody, true)
	if msg != "" {
		return errValidation(map[string]string{"body": msg})
	}
	// The edit is assessed as a new comment would be, and its status
	// never drops below what it was: see moderation.Draft.Edit.
	who := schema.Author{EmailHash: c.EmailHash, IPHash: c.IPHash, ReaderID: c.ReaderID}
	verdict, err := s.assessor.Assess(r.Context(), moderation.Draft{Site: site, Body: body, Author: c.Author, Who: who, Edit: c})
	if err != nil {
		return err
	}
	updated, err := s.store.EditCommentThen(r.Context(), c.ID, c.Version, body, verdict.BodyKey, verdict.Status, verdict.Reasons,
		s.notify.Held(site), s.queue.EditStatement(site))
	if errors.Is(err, schema.ErrConflict) {
		return errConflict("the comment changed meanwhile: reload it and edit again")
	}
	if err != nil {
		return err
	}
	if updated.Status == schema.StatusPending {
		s.notify.Wake()
	}
	writeJSON(w, http.StatusOK, map[string]any{"comment": toPublic(updated)})
	return nil
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request) error {
	c, _, err := s.ownComment(r)
	if err != nil {
		return err
	}
	if err := s.limitChange(r, c); err != nil {
		return err
	}
	if err := s.store.DeleteComment(r.Context(), c.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// publishedComment is the route's comment if readers can see it.
func (s *Server) publishedComment(r *http.Request) (*schema.Comment, error) {
	c, err := s.commentByID(r)
	if err != nil {
		return nil, err
	}
	if c.Status != schema.StatusApproved {
		return nil, errNotFound("comment")
	}
	return c, nil
}

func (s *Server) voteComment(w http.ResponseWriter, r *http.Request) error {
	readerID, err := s.requireReader(r)
	if err != nil {
		return err
	}
	vote := 0
	if r.Method == http.MethodPut {
		var in struct {
			Vote *int `json:"vote"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		if in.Vote == nil || (*in.Vote != 1 && *in.Vote != -1) {
			return errValidation(map[string]string{"vote": "1 for up or -1 for down"})
		}
		vote = *in.Vote
	}
	if err := s.limits.votes.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	id, err := commentID(r)
	if err != nil {
		return err
	}
	// The store refuses a comment that is not published, in the vote's
	// own transaction: no read of the comment before it.
	score, err := s.store.VotePublishedComment(r.Context(), id, readerID, vote)
	if errors.Is(err, schema.ErrNotFound) {
		return errNotFound("comment")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": score.ID, "score": score.Score, "upvotes": score.Upvotes,
		"downvotes": score.Downvotes, "mine": score.Mine})
	return nil
}

var reportReasons = map[string]bool{"spam": true, "abuse": true, "off_topic": true, "other": true}

func (s *Server) reportComment(w http.ResponseWriter, r *http.Request) error {
	readerID, err := s.requireReader(r)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	if !reportReasons[in.Reason] {
		fields["reason"] = "one of spam, abuse, off_topic, other"
	}
	note, msg := checkText(in.Note, 0, maxNote, true)
	if msg != "" {
		fields["note"] = msg
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	c, site, err := s.commentToReport(r)
	if err != nil {
		return err
	}
	_, reportedNow, err := s.store.ReportComment(r.Context(), c.ID, readerID, in.Reason, note,
		site.Settings.Moderation.ReportThreshold, s.notify.Reported(site))
	if errors.Is(err, schema.ErrNotFound) {
		return errNotFound("comment")
	}
	if err != nil {
		return err
	}
	if reportedNow {
		s.notify.Wake()
	}
	writeJSON(w, http.StatusAccepted, map[string]bool{"accepted": true})
	return nil
}

// commentToReport is the published comment a report or a notice names, and
// its site, once the caller is within the reports' rate limit.
func (s *Server) commentToReport(r *http.Request) (*schema.Comment, *schema.Site, error) {
	if err := s.limits.reports.check(limitKey(s.clientIP(r))); err != nil {
		return nil, nil, err
	}
	c, err := s.publishedComment(r)
	if err != nil {
		return nil, nil, err
	}
	site, err := s.store.SiteByID(r.Context(), c.SiteID)
	if err != nil {
		return nil, nil, err
	}
	return c, site, nil
}
