// Command app prints a greeting, or serves greetings as JSON over HTTP ("app serve [ADDR]").
package main

import (
	"fmt"
	"os"

	"example.com/demo/internal/api"
	"example.com/demo/internal/greeting"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		addr := "127.0.0.1:8080"
		if len(os.Args) > 2 {
			addr = os.Args[2]
		}
		fmt.Println("listening on", addr)
		if err := api.Serve(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greeting.For(name))
}
