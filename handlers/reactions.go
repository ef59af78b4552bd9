package handlers

import (
	"net/http"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type reactionsResponse struct {
	Site    string           `json:"site"`
	Article string           `json:"article"`
	Counts  map[string]int64 `json:"counts"`
	Total   int64            `json:"total"`
	Mine    *string          `json:"mine"`
	// Reactions are the site's, in its order, as the widget draws them.
	Reactions []reactionInfo `json:"reactions"`
}

// reactionInfo is one reaction of a site: its label ("" for the widget's
// own text) and icon (an emoji, a built-in icon's name, or "" for none).
type reactionInfo struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Icon  string `json:"icon"`
}

// reactionSet lists the site's reactions with their labels and icons; a
// reaction named like a built-in icon gets that icon unless it has another.
func reactionSet(site *schema.Site) []reactionInfo {
	out := make([]reactionInfo, 0, len(site.Settings.Reactions))
	for _, name := range site.Settings.Reactions {
		st := site.Settings.ReactionStyles[name]
		if st.Icon == "" && moderation.BuiltinIcon(name) {
			st.Icon = name
		}
		out = append(out, reactionInfo{Name: name, Label: st.Label, Icon: st.Icon})
	}
	return out
}

type countsResponse struct {
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
}

// shape lists the site's reactions, zero when nobody chose them, and their
// total; reactions no longer configured are left out.
func shape(site *schema.Site, c schema.Counts) countsResponse {
	out := countsResponse{Counts: make(map[string]int64, len(site.Settings.Reactions))}
	for _, name := range site.Settings.Reactions {
		out.Counts[name] = c[name]
		out.Total += c[name]
	}
	return out
}

func (s *Server) writeReactions(w http.ResponseWriter, site *schema.Site, key string, c schema.Counts, mine string) {
	bp := answerBuffers.Get().(*[]byte)
	*bp = append(appendReactions((*bp)[:0], site, key, c, mine), '\n')
	writeJSONLine(w, http.StatusOK, *bp)
	answerBuffers.Put(bp)
}

func (s *Server) getReactions(w http.ResponseWriter, r *http.Request) error {
	readerID, err := s.reader(r)
	if err != nil {
		return err
	}
	site, err := s.site(r)
	if err != nil {
		return err
	}
	key := routeVar(r, "article")
	if !validArticleKey(key) {
		return errArticleKey()
	}
	id, res, err := s.store.ArticleReactions(r.Context(), site.ID, key, readerID)
	if err != nil {
		return err
	}
	if id == 0 {
		if err := unusedArticle(site, key); err != nil {
			return err
		}
	}
	s.writeReactions(w, site, key, res.Counts, res.Mine)
	return nil
}

func (s *Server) putReaction(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reaction *string `json:"reaction"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	return s.setReaction(w, r, body.Reaction, true)
}

func (s *Server) deleteReaction(w http.ResponseWriter, r *http.Request) error {
	empty := ""
	return s.setReaction(w, r, &empty, false)
}

func (s *Server) setReaction(w http.ResponseWriter, r *http.Request, reaction *string, set bool) error {
	readerID, err := s.requireReader(r)
	if err != nil {
		return err
	}
	site, err := s.site(r)
	if err != nil {
		return err
	}
	if set {
		if reaction == nil || *reaction == "" {
			return errValidation(map[string]string{"reaction": "required: one of " + joinList(site.Settings.Reactions)})
		}
		if !site.Settings.HasReaction(*reaction) {
			return errValidation(map[string]string{"reaction": "unknown reaction: use one of " + joinList(site.Settings.Reactions)})
		}
	}
	if err := s.limits.votes.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	id, err := s.articleIDOf(r, site, set)
	if err != nil {
		return err
	}
	key := routeVar(r, "article")
	if id == 0 { // retracting on an article nobody used: nothing to do
		s.writeReactions(w, site, key, nil, "")
		return nil
	}
	res, err := s.store.SetReaction(r.Context(), id, readerID, *reaction)
	if err != nil {
		return err
	}
	label := *reaction
	if label == "" {
		label = "retract"
	}
	s.metrics.votes.WithLabelValues(label).Inc()
	s.writeReactions(w, site, key, res.Counts, res.Mine)
	return nil
}

func (s *Server) bulkReactions(w http.ResponseWriter, r *http.Request) error {
	site, err := s.site(r)
	if err != nil {
		return err
	}
	keys := r.URL.Query()["article"]
	if len(keys) == 0 || len(keys) > 100 {
		return errBadRequest("name 1 to 100 articles: ?article=a&article=b")
	}
	for _, k := range keys {
		if !validArticleKey(k) {
			return errArticleKey()
		}
	}
	counts, err := s.store.SiteReactionCounts(r.Context(), site.ID, keys)
	if err != nil {
		return err
	}
	out := make(map[string]countsResponse, len(keys))
	for _, k := range keys {
		out[k] = shape(site, counts[k])
	}
	writeJSON(w, http.StatusOK, map[string]any{"articles": out, "reactions": reactionSet(site)})
	return nil
}

func joinList(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
