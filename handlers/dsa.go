package handlers

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
)

// The EU Digital Services Act routes: notices of illegal content, appeals
// against statements of reasons, and the moderators' notices and appeals
// queues, trusted flaggers, misuse counters and transparency report.

// createNotice takes a notice of illegal content about a published
// comment (Art. 16). Like a report it needs a reader token and passes the
// reports' rate limit; the notifier's name, email and good-faith statement
// stand behind it.
func (s *Server) createNotice(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireReader(r); err != nil {
		return err
	}
	var in struct {
		Category    string `json:"category"`
		Explanation string `json:"explanation"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		GoodFaith   bool   `json:"good_faith"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req := moderation.NoticeRequest{Category: in.Category, Explanation: in.Explanation, Name: in.Name, Email: in.Email, GoodFaith: in.GoodFaith}
	if _, f := moderation.ValidateNotice(req); len(f) > 0 {
		return errValidation(f)
	}
	c, site, err := s.commentToReport(r)
	if err != nil {
		return err
	}
	n, err := s.queue.FileNotice(r.Context(), site, c, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"notice": map[string]any{
		"id": n.ID, "comment_id": n.CommentID, "category": n.Category, "status": n.Status, "created_at": n.CreatedAt()}})
	return nil
}

// noticeCategories lists the categories a notice names, with their labels.
func (s *Server) noticeCategories(w http.ResponseWriter, r *http.Request) error {
	lang := r.URL.Query().Get("lang")
	out := make([]map[string]string, 0, len(dsa.Categories))
	for _, c := range dsa.Categories {
		out = append(out, map[string]string{"id": c, "label": dsa.CategoryLabel(c, lang)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": out})
	return nil
}

type statementView struct {
	ID                 int64     `json:"id"`
	Site               string    `json:"site"`
	CommentID          int64     `json:"comment_id"`
	NoticeID           *int64    `json:"notice_id"`
	Decision           string    `json:"decision"`
	Ground             string    `json:"ground"`
	Facts              string    `json:"facts"`
	AutomatedDetection bool      `json:"automated_detection"`
	AutomatedDecision  bool      `json:"automated_decision"`
	ModeratorID        *int64    `json:"moderator_id,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	AppealUntil        time.Time `json:"appeal_until"`
}

func toStatementView(st *schema.Statement, site string, mod bool) statementView {
	v := statementView{ID: st.ID, Site: site, CommentID: st.CommentID, Decision: st.Decision, Ground: st.Ground, Facts: st.Facts,
		AutomatedDetection: st.AutomatedDetection, AutomatedDecision: st.AutomatedDecision,
		CreatedAt: st.CreatedAt(), AppealUntil: st.AppealUntil()}
	if st.NoticeID != nil {
		v.NoticeID = st.NoticeID
	}
	if mod && st.ModeratorID != nil {
		v.ModeratorID = st.ModeratorID
	}
	return v
}

type appealView struct {
	ID          int64      `json:"id"`
	Site        string     `json:"site,omitempty"`
	CommentID   int64      `json:"comment_id"`
	Explanation string     `json:"explanation"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	DecidedBy   *int64     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

func toAppealView(a *schema.Appeal, site string, mod bool) appealView {
	v := appealView{ID: a.ID, Site: site, CommentID: a.CommentID, Explanation: a.Explanation, Status: a.Status, Reason: a.Reason,
		DecidedAt: a.DecidedAt(), CreatedAt: a.CreatedAt()}
	if mod && a.DecidedBy != nil {
		v.DecidedBy = a.DecidedBy
	}
	return v
}

// appealStatus answers what an appeal link is about, for the appeal page.
func (s *Server) appealStatus(w http.ResponseWriter, r *http.Request) error {
	info, err := s.queue.AppealByToken(r.Context(), routeVar(r, "token"))
	if err != nil {
		return notFoundAs(err, "appeal link")
	}
	out := map[string]any{
		"statement": toStatementView(info.Statement, info.Site.Slug, false),
		"open":      info.Appeal == nil && s.store.Now().Before(info.Statement.AppealUntil()),
		"appeal":    nil,
		"language":  info.Site.Settings.Language,
		"decision":  dsa.DecisionLabel(info.Statement.Decision, info.Site),
	}
	if info.Appeal != nil {
		out["appeal"] = toAppealView(info.Appeal, "", false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createAppeal takes the author's appeal (Art. 20); the link's token is
// the author's proof.
func (s *Server) createAppeal(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Explanation string `json:"explanation"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limits.reports.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	a, err := s.queue.FileAppeal(r.Context(), routeVar(r, "token"), in.Explanation)
	if err != nil {
		return notFoundAs(err, "appeal link")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"appeal": toAppealView(a, "", false)})
	return nil
}

type noticeView struct {
	ID            int64       `json:"id"`
	Site          string      `json:"site"`
	CommentID     int64       `json:"comment_id"`
	Comment       *modComment `json:"comment"`
	Category      string      `json:"category"`
	Explanation   string      `json:"explanation"`
	NotifierName  string      `json:"notifier_name"`
	NotifierEmail string      `json:"notifier_email"`
	Trusted       bool        `json:"trusted"`
	Status        string      `json:"status"`
	Unfounded     bool        `json:"manifestly_unfounded"`
	Reason        string      `json:"reason"`
	DecidedBy     *int64      `json:"decided_by"`
	DecidedAt     *time.Time  `json:"decided_at"`
	CreatedAt     time.Time   `json:"created_at"`
}

func (s *Server) toNoticeView(r *http.Request, n *schema.Notice, slugs map[int64]string) (noticeView, error) {
	v := noticeView{ID: n.ID, Site: slugs[n.SiteID], CommentID: n.CommentID, Category: n.Category, Explanation: n.Explanation,
		NotifierName: n.NotifierName, NotifierEmail: n.NotifierEmail, Trusted: n.Trusted, Status: n.Status, Unfounded: n.Unfounded,
		Reason: n.Reason, DecidedAt: n.DecidedAt(), CreatedAt: n.CreatedAt()}
	if n.DecidedBy != nil {
		v.DecidedBy = n.DecidedBy
	}
	c, err := s.store.Comment(r.Context(), n.CommentID)
	if err != nil {
		return v, err
	}
	mc := toModComment(c)
	v.Comment = &mc
	return v, nil
}

// listStatus reads ?status= among the allowed ones; def when absent.
func listStatus(r *http.Request, def string, allowed ...string) (string, error) {
	st := r.URL.Query().Get("status")
	switch {
	case st == "":
		return def, nil
	case st == "all":
		return "", nil
	}
	for _, a := range allowed {
		if st == a {
			return st, nil
		}
	}
	return "", errBadRequest("status must be one of %s or all", strings.Join(allowed, ", "))
}

// listRequest reads what a DSA queue's page asks for (status, limit) and
// the sites the moderator may see, with their slugs for the answer.
func (s *Server) listRequest(r *http.Request, def string, allowed ...string) (schema.ListQuery, map[int64]string, error) {
	status, err := listStatus(r, def, allowed...)
	if err != nil {
		return schema.ListQuery{}, nil, err
	}
	limit, err := queryLimit(r, 50, 200)
	if err != nil {
		return schema.ListQuery{}, nil, err
	}
	sites, err := s.modSites(r)
	if err != nil {
		return schema.ListQuery{}, nil, err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return schema.ListQuery{}, nil, err
	}
	return schema.ListQuery{SiteIDs: sites, Status: status, Limit: limit}, slugs, nil
}

// listNotices answers the notices queue: trusted flaggers' first, then the
// oldest.
func (s *Server) listNotices(w http.ResponseWriter, r *http.Request) error {
	q, slugs, err := s.listRequest(r, schema.NoticeOpen, schema.NoticeOpen, schema.NoticeActioned, schema.NoticeDismissed)
	if err != nil {
		return err
	}
	ns, err := s.store.Notices(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]noticeView, 0, len(ns))
	for i := range ns {
		v, err := s.toNoticeView(r, &ns[i], slugs)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": out})
	return nil
}

// decideNotice removes the noticed comment or dismisses the notice.
func (s *Server) decideNotice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "notice")
	if err != nil {
		return err
	}
	var in struct {
		Action    string `json:"action"`
		Unfounded bool   `json:"manifestly_unfounded"`
		Ground    string `json:"ground"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.queue.DecideNotice(r.Context(), actor(r), id, moderation.NoticeDecision{
		Action: in.Action, Unfounded: in.Unfounded, Ground: in.Ground, Reason: in.Reason})
	if err != nil {
		return notFoundAs(err, "notice")
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	v, err := s.toNoticeView(r, n, slugs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"notice": v})
	return nil
}

type modAppealView struct {
	appealView
	Statement statementView `json:"statement"`
	Comment   modComment    `json:"comment"`
}

// listAppeals answers the appeals queue, oldest first.
func (s *Server) listAppeals(w http.ResponseWriter, r *http.Request) error {
	q, slugs, err := s.listRequest(r, schema.AppealOpen, schema.AppealOpen, schema.AppealUpheld, schema.AppealReversed)
	if err != nil {
		return err
	}
	as, err := s.store.Appeals(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]modAppealView, 0, len(as))
	for i := range as {
		v, err := s.toModAppeal(r, &as[i], slugs)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeals": out})
	return nil
}

func (s *Server) toModAppeal(r *http.Request, a *schema.Appeal, slugs map[int64]string) (modAppealView, error) {
	st, err := s.store.Statement(r.Context(), a.StatementID)
	if err != nil {
		return modAppealView{}, err
	}
	c, err := s.store.Comment(r.Context(), a.CommentID)
	if err != nil {
		return modAppealView{}, err
	}
	return modAppealView{appealView: toAppealView(a, slugs[a.SiteID], true),
		Statement: toStatementView(st, slugs[a.SiteID], true), Comment: toModComment(c)}, nil
}

// decideAppeal reverses (restores the comment) or upholds a decision.
func (s *Server) decideAppeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "appeal")
	if err != nil {
		return err
	}
	var in struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.queue.DecideAppeal(r.Context(), actor(r), id, in.Outcome, in.Reason)
	if err != nil {
		return notFoundAs(err, "appeal")
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	v, err := s.toModAppeal(r, a, slugs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeal": v})
	return nil
}

// modSite returns the route's site when the moderator moderates it.
func (s *Server) modSite(r *http.Request) (*schema.Site, error) {
	slug := routeVar(r, "site")
	site, err := s.store.Site(r.Context(), slug)
	if err != nil {
		return nil, notFoundAs(err, "site "+quote(slug))
	}
	if !moderator(r).CanModerate(site.ID) {
		return nil, errForbidden("you do not moderate site " + quote(slug))
	}
	return site, nil
}

type flaggerView struct {
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	AddedBy   string    `json:"added_by"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) listFlaggers(w http.ResponseWriter, r *http.Request) error {
	site, err := s.modSite(r)
	if err != nil {
		return err
	}
	fs, err := s.store.TrustedFlaggers(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]flaggerView, 0, len(fs))
	for _, f := range fs {
		out = append(out, flaggerView{Email: f.Email, Name: f.Name, AddedBy: f.AddedBy, CreatedAt: f.CreatedAt()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"trusted_flaggers": out})
	return nil
}

func (s *Server) addFlagger(w http.ResponseWriter, r *http.Request) error {
	site, err := s.modSite(r)
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	email, msg := checkEmail(in.Email)
	if msg == "" && email == "" {
		msg = "required"
	}
	fields := map[string]string{}
	if msg != "" {
		fields["email"] = msg
	}
	name, msg := checkText(in.Name, 0, 200, false)
	if msg != "" {
		fields["name"] = msg
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	f := &schema.TrustedFlagger{SiteID: site.ID, Email: email, Name: name}
	if err := s.store.AddTrustedFlagger(r.Context(), f, schema.By(moderator(r), "")); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"trusted_flagger": flaggerView{Email: f.Email, Name: f.Name, AddedBy: f.AddedBy, CreatedAt: f.CreatedAt()}})
	return nil
}

func (s *Server) removeFlagger(w http.ResponseWriter, r *http.Request) error {
	site, err := s.modSite(r)
	if err != nil {
		return err
	}
	email := routeVar(r, "email")
	// No address on the list has a NUL byte or invalid UTF-8, which
	// PostgreSQL would refuse to compare.
	if !utf8.ValidString(email) || strings.ContainsRune(email, 0) {
		return errNotFound("trusted flagger")
	}
	if err := s.store.RemoveTrustedFlagger(r.Context(), site.ID, email, schema.By(moderator(r), "")); err != nil {
		return notFoundAs(err, "trusted flagger")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// misuse answers the notifiers and authors the misuse measures concern.
func (s *Server) misuse(w http.ResponseWriter, r *http.Request) error {
	site, err := s.modSite(r)
	if err != nil {
		return err
	}
	ns, as, err := s.queue.Misuse(r.Context(), site.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifiers": ns, "authors": as,
		"window_days": int(dsa.MisuseWindow.Hours() / 24)})
	return nil
}

// transparency answers the site's transparency report for [from, to], both
// whole days in UTC, as JSON or, for Accept: text/csv or ?format=csv, CSV.
func (s *Server) transparency(w http.ResponseWriter, r *http.Request) error {
	site, err := s.modSite(r)
	if err != nil {
		return err
	}
	from, to, err := dsa.Period(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return errBadRequest("%v", err)
	}
	format := r.URL.Query().Get("format")
	switch {
	case format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv"):
		format = "csv"
	case format == "":
		format = "json"
	case format != "json" && format != "csv":
		return errBadRequest("format must be json or csv")
	}
	rep, err := s.queue.Transparency(r.Context(), site, from, to)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="transparency-`+site.Slug+`.csv"`)
		return rep.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
