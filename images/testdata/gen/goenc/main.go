// Command goenc encodes PNGs as JPEGs with Go's image/jpeg, for
// scripts/jpeg_parity.py (which then decodes them with PIL):
//
//	go run ./images/testdata/gen/goenc QUALITY IN.png OUT.jpg [QUALITY IN OUT]...
package main

import (
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png"
	"os"
	"strconv"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || len(args)%3 != 0 {
		fmt.Fprintln(os.Stderr, "usage: goenc QUALITY IN.png OUT.jpg [QUALITY IN OUT]...")
		os.Exit(2)
	}
	for ; len(args) > 0; args = args[3:] {
		if err := encode(args[0], args[1], args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "goenc:", err)
			os.Exit(1)
		}
	}
}

func encode(quality, in, out string) error {
	q, err := strconv.Atoi(quality)
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: q}); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
