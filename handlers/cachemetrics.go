package handlers

import (
	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/prometheus/client_golang/prometheus"
)

// cacheCollector reports every cache of the process, the store's and the
// page cache, and whether other processes' changes are being followed.
type cacheCollector struct {
	store    *schema.Store
	pages    *pageCache
	media    *mediaCache
	assessor *moderation.Assessor
}

var (
	cacheHits          = prometheus.NewDesc("parley_cache_hits_total", "Cache lookups answered from memory.", []string{"cache"}, nil)
	cacheMisses        = prometheus.NewDesc("parley_cache_misses_total", "Cache lookups that went to the database.", []string{"cache"}, nil)
	cacheEvictions     = prometheus.NewDesc("parley_cache_evictions_total", "Entries evicted to stay within the cache's budget.", []string{"cache"}, nil)
	cacheInvalidations = prometheus.NewDesc("parley_cache_invalidations_total", "Entries dropped because what they held changed.", []string{"cache"}, nil)
	cacheRefused       = prometheus.NewDesc("parley_cache_refused_fills_total", "Values read while a change was committing, not stored.", []string{"cache"}, nil)
	cacheEntries       = prometheus.NewDesc("parley_cache_entries", "Entries held.", []string{"cache"}, nil)
	cacheCost          = prometheus.NewDesc("parley_cache_cost", "What the entries cost against the budget (bytes for pages, entries otherwise).", []string{"cache"}, nil)
	watchUp            = prometheus.NewDesc("parley_cache_watch_up", "1 while other processes' changes reach the caches as they commit; 0 while the caches fall back on a short expiry.", nil, nil)
	publishUp          = prometheus.NewDesc("parley_cache_publish_up", "PostgreSQL: 1 while this instance's changes reach the other instances; 0 while its publishing connection reconnects.", nil, nil)
	silencedPeers      = prometheus.NewDesc("parley_cache_silent_instances_total", "PostgreSQL: other instances that stopped saying they were alive without a goodbye; the caches were cleared each time.", nil, nil)
)

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheHits, cacheMisses, cacheEvictions, cacheInvalidations, cacheRefused, cacheEntries, cacheCost, watchUp, publishUp, silencedPeers} {
		ch <- d
	}
}

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range append(c.store.CacheStats(), c.pages.c.Stats(), c.media.c.Stats(), c.assessor.CacheStats()) {
		counter := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), st.Name)
		}
		counter(cacheHits, st.Hits)
		counter(cacheMisses, st.Misses)
		counter(cacheEvictions, st.Evictions)
		counter(cacheInvalidations, st.Invalidations)
		counter(cacheRefused, st.Refused)
		ch <- prometheus.MustNewConstMetric(cacheEntries, prometheus.GaugeValue, float64(st.Entries), st.Name)
		ch <- prometheus.MustNewConstMetric(cacheCost, prometheus.GaugeValue, float64(st.Cost), st.Name)
	}
	ws := c.store.WatchStatus()
	gauge := func(d *prometheus.Desc, on bool) {
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(watchUp, ws.Up)
	gauge(publishUp, ws.Publishing)
	ch <- prometheus.MustNewConstMetric(silencedPeers, prometheus.CounterValue, float64(ws.Silenced))
}
