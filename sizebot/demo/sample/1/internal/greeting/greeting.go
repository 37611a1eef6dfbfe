// Package greeting says hello.
package greeting

import "strings"

// For returns the greeting for name.
func For(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "world"
	}
	return "Hello, " + name + "!"
}
