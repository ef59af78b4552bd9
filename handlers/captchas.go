package handlers

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dchest/captcha"
	"github.com/parley/parley/schema"
)

const (
	captchaIDBytes = 15 // 20 characters of base64url
	captchaDigits  = 6
	captchaWidth   = 240
	captchaHeight  = 80
)

// captchaLangs are the languages the captcha library speaks digits in.
var captchaLangs = map[string]bool{"en": true, "ja": true, "ru": true, "zh": true, "pt": true}

type captchaResponse struct {
	ID           string    `json:"id"`
	ImageURL     string    `json:"image_url"`
	AudioURL     string    `json:"audio_url"`
	ExpiresAt    time.Time `json:"expires_at"`
	TestSolution string    `json:"test_solution,omitempty"`
}

func (s *Server) createCaptcha(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.captchas.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	id := randomToken(captchaIDBytes)
	digits := captcha.RandomDigits(captchaDigits)
	exp, err := s.store.CreateCaptcha(r.Context(), id, digits)
	if err != nil {
		return err
	}
	resp := captchaResponse{
		ID: id, ExpiresAt: exp,
		ImageURL: "/api/v1/captchas/" + id + "/image.png",
		AudioURL: "/api/v1/captchas/" + id + "/audio.wav",
	}
	if s.cfg.CaptchaTest {
		resp.TestSolution = digitString(digits)
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) captchaDigits(r *http.Request) (string, []byte, error) {
	if err := s.limits.captchaMedia.check(limitKey(s.clientIP(r))); err != nil {
		return "", nil, err
	}
	id := routeVar(r, "id")
	if !validCaptchaID(id) {
		return "", nil, errNotFound("captcha (unknown, used or expired: ask for a new one)")
	}
	// Asked every time, cached media or not: a used or expired captcha
	// shows nothing.
	d, err := s.store.CaptchaDigits(r.Context(), id)
	if errors.Is(err, schema.ErrNotFound) {
		return "", nil, errNotFound("captcha (unknown, used or expired: ask for a new one)")
	}
	return id, d, err
}

func (s *Server) captchaImage(w http.ResponseWriter, r *http.Request) error {
	id, d, err := s.captchaDigits(r)
	if err != nil {
		return err
	}
	png, err := s.media.get(r.Context(), mediaKey{id, "image", ""}, func() ([]byte, error) {
		var buf bytes.Buffer
		_, err := captcha.NewImage(id, d, captchaWidth, captchaHeight).WriteTo(&buf)
		return buf.Bytes(), err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
	return nil
}

func (s *Server) captchaAudio(w http.ResponseWriter, r *http.Request) error {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = captchaLangFor(r.Header.Get("Accept-Language"))
	}
	if !captchaLangs[lang] {
		return errBadRequest("lang must be one of en, ja, pt, ru, zh")
	}
	id, d, err := s.captchaDigits(r)
	if err != nil {
		return err
	}
	wav, err := s.media.get(r.Context(), mediaKey{id, "audio", lang}, func() ([]byte, error) {
		var buf bytes.Buffer
		_, err := captcha.NewAudio(id, d, lang).WriteTo(&buf)
		return buf.Bytes(), err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(wav)
	return nil
}

func errCaptcha(msg string) error {
	return &apiError{Status: http.StatusForbidden, Code: "captcha_invalid", Message: msg,
		Fields: map[string]string{"captcha_solution": msg}}
}

// captchaChecker compares an answer with a captcha's digits in constant
// time; spaces and dashes a reader typed are ignored.
func captchaChecker(solution string) func(digits []byte) bool {
	got := strings.Map(func(c rune) rune {
		if c == ' ' || c == '-' {
			return -1
		}
		return c
	}, solution)
	return func(digits []byte) bool {
		return subtle.ConstantTimeCompare([]byte(got), []byte(digitString(digits))) == 1
	}
}

// validCaptchaID tells whether id has the shape of the ids createCaptcha
// hands out. Others are refused without asking the database.
func validCaptchaID(id string) bool {
	if len(id) != b64.EncodedLen(captchaIDBytes) {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func digitString(d []byte) string {
	b := make([]byte, len(d))
	for i, x := range d {
		b[i] = '0' + x
	}
	return string(b)
}
