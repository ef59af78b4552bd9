package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/parley/parley/schema"
)

// queueCounts answers the sizes of the work queues, from counters.
func (s *Server) queueCounts(w http.ResponseWriter, r *http.Request) error {
	sites, err := s.modSites(r)
	if err != nil {
		return err
	}
	counts, err := s.store.QueueCounts(r.Context(), sites)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": counts})
	return nil
}

type queueItem struct {
	Comment modComment      `json:"comment"`
	Article articleView     `json:"article"`
	Reasons json.RawMessage `json:"reasons"`
	Reports []reportView    `json:"reports"`
}

type articleView struct {
	// ID is what the article's insight card is asked by.
	ID    int64  `json:"id"`
	Site  string `json:"site"`
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type reportView struct {
	Reason    string    `json:"reason"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// queuePage answers a page of a queue. The work queues run oldest first and
// the history (approved, rejected) newest first unless ?sort= says
// otherwise; sort=priority puts the most reasons and reports first.
func (s *Server) queuePage(w http.ResponseWriter, r *http.Request) error {
	queue := routeVar(r, "queue")
	q := r.URL.Query()
	sort := q.Get("sort")
	switch sort {
	case "":
		sort = schema.QueueOldest
		if queue == schema.QueueApproved || queue == schema.QueueRejected {
			sort = schema.QueueNewest
		}
	case schema.QueueOldest, schema.QueueNewest, schema.QueuePriority:
	default:
		return errBadRequest("sort must be oldest, newest or priority")
	}
	limit, err := queryLimit(r, 50, 200)
	if err != nil {
		return err
	}
	after, err := queryCursor(r, sort)
	if err != nil {
		return err
	}
	sites, err := s.modSites(r)
	if err != nil {
		return err
	}
	query := schema.QueueQuery{Queue: queue, SiteIDs: sites, Sort: sort, After: after, Limit: limit}
	resp := struct {
		Items      []queueItem `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}{Items: []queueItem{}}
	if key := q.Get("article"); key != "" {
		if len(sites) != 1 || q.Get("site") == "" {
			return errBadRequest("article needs site: ?site=news&article=%s", key)
		}
		a, err := s.store.Article(r.Context(), sites[0], key)
		if errors.Is(err, schema.ErrNotFound) {
			writeJSON(w, http.StatusOK, resp)
			return nil
		}
		if err != nil {
			return err
		}
		query.ArticleID = a.ID
	}
	rows, next, err := s.store.QueuePage(r.Context(), query)
	if err != nil {
		return err
	}
	if resp.Items, err = s.queueItems(r, rows); err != nil {
		return err
	}
	resp.NextCursor = cursorString(next)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// queueItems joins comments with their articles, sites and open reports:
// three reads for the whole page.
func (s *Server) queueItems(r *http.Request, rows []schema.Comment) ([]queueItem, error) {
	ctx := r.Context()
	// Reports are read only for comments that have open ones, and each
	// article once: most pages need one article and no reports.
	var ids, articleIDs []int64
	seen := map[int64]bool{}
	for _, c := range rows {
		if c.ReportCount > 0 {
			ids = append(ids, c.ID)
		}
		if !seen[c.ArticleID] {
			seen[c.ArticleID] = true
			articleIDs = append(articleIDs, c.ArticleID)
		}
	}
	articles, err := s.store.ArticlesByID(ctx, articleIDs)
	if err != nil {
		return nil, err
	}
	slugs, err := s.siteSlugs(ctx)
	if err != nil {
		return nil, err
	}
	reports, err := s.store.OpenReports(ctx, ids)
	if err != nil {
		return nil, err
	}
	items := make([]queueItem, 0, len(rows))
	for i := range rows {
		c := &rows[i]
		item := queueItem{Comment: toModComment(c), Reasons: reasonsJSON(c), Reports: []reportView{}}
		item.Article.ID, item.Article.Site = c.ArticleID, slugs[c.SiteID]
		if a := articles[c.ArticleID]; a != nil {
			item.Article.Key, item.Article.Title, item.Article.URL = a.Key, a.Title, a.URL
		}
		for _, rep := range reports[c.ID] {
			item.Reports = append(item.Reports, reportView{Reason: rep.Reason, Note: rep.Note, CreatedAt: rep.CreatedAt()})
		}
		items = append(items, item)
	}
	return items, nil
}
