// Package quotes has a few words on size, wrapped to a width.
package quotes

import (
	"strings"
	"unicode/utf8"
)

// Quote is a saying and who said it.
type Quote struct {
	Text   string `json:"text"`
	Author string `json:"author"`
}

var all = []Quote{
	{"Perfection is achieved not when there is nothing more to add, but when there is nothing left to take away.",
		"Antoine de Saint-Exupéry"},
	{"A little copying is better than a little dependency.", "Go Proverbs"},
	{"Clear is better than clever.", "Go Proverbs"},
	{"Small is beautiful.", "E. F. Schumacher"},
}

// Pick returns one quote; any int is a valid choice.
func Pick(i int) Quote {
	if i < 0 {
		i = -i
	}
	return all[i%len(all)]
}

// Wrap breaks the quote's text into lines of at most width runes, words kept whole.
func (q Quote) Wrap(width int) []string {
	var lines []string
	var line strings.Builder
	for _, word := range strings.Fields(q.Text) {
		if line.Len() > 0 && utf8.RuneCountInString(line.String())+1+utf8.RuneCountInString(word) > width {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(word)
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return append(lines, "  -- "+q.Author)
}
