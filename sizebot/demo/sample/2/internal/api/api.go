// Package api serves greetings and quotes as JSON.
package api

import (
	"encoding/json"
	"net/http"

	"example.com/demo/internal/greeting"
	"example.com/quotes"
)

type reply struct {
	Greeting string       `json:"greeting"`
	Quote    quotes.Quote `json:"quote"`
	Lines    []string     `json:"lines"`
}

// Handler answers GET /hello?name=NAME with a greeting and a quote.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		q := quotes.Pick(len(r.URL.RawQuery))
		_ = json.NewEncoder(w).Encode(reply{
			Greeting: greeting.For(r.URL.Query().Get("name")),
			Quote:    q,
			Lines:    q.Wrap(40),
		})
	})
	return mux
}

// Serve listens on addr until it fails.
func Serve(addr string) error {
	return http.ListenAndServe(addr, Handler())
}
