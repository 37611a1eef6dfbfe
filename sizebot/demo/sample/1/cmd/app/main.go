// Command app prints a greeting.
package main

import (
	"fmt"
	"os"

	"example.com/demo/internal/greeting"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greeting.For(name))
}
