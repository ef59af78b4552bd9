package handlers

import (
	"strings"
	"testing"
)

// widgetBudget is the most the widget may weigh on the wire at first
// load, compressed (gzip and brotli alike): the script itself, English
// built in; another language adds its own small file.
const widgetBudget = 20 << 10

func TestWidgetWeight(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	w := a.files["embed.js"]
	src, _ := web.ReadFile("web/embed.js")
	t.Logf("embed.js: source %d bytes, minified %d, gzip %d, brotli %d (budget %d)", len(src), len(w.raw), len(w.gz), len(w.br), widgetBudget)
	if len(a.langs) < 8 {
		t.Errorf("%d translations bundled, want at least 8", len(a.langs))
	}
	for lang, f := range a.langs {
		l := a.hashed[strings.TrimPrefix(f.URL, "/")]
		t.Logf("%s: minified %d, gzip %d, brotli %d", lang, len(l.raw), len(l.gz), len(l.br))
		if len(l.gz) > 4<<10 {
			t.Errorf("translation %s weighs %d bytes gzipped: more than 4 KB", lang, len(l.gz))
		}
	}
	if len(w.gz) > widgetBudget || len(w.br) > widgetBudget {
		t.Errorf("the widget weighs %d bytes gzipped, %d with brotli: over the budget of %d", len(w.gz), len(w.br), widgetBudget)
	}
}

func TestAcceptEncoding(t *testing.T) {
	for header, want := range map[string]string{
		"":                       "",
		"gzip, deflate, br":      "br",
		"gzip":                   "gzip",
		"br;q=0, gzip":           "gzip",
		"gzip;q=0.5, br;q=0.4":   "gzip",
		"identity":               "",
		"BR":                     "br",
		"gzip;q=0, br;q=0":       "",
		"gzip;q=bogus, br;q=0.1": "br",
	} {
		if got := encoding(header); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", header, got, want)
		}
	}
}

func TestCaptchaLangFor(t *testing.T) {
	for accept, want := range map[string]string{
		"":                            "en",
		"fr-FR,fr;q=0.9":              "en",
		"ar,pt-BR;q=0.8,en;q=0.5":     "pt",
		"ja-JP":                       "ja",
		"de;q=0.9, ru;q=0.95, en;q=0": "ru",
		"zh-Hant-TW":                  "zh",
		"\x00garbage":                 "en",
	} {
		if got := captchaLangFor(accept); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", accept, got, want)
		}
	}
}
