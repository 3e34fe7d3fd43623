// chanmem: bytes of Go heap per idle channel (the channel and an 8-byte reference to it, as
// weft's figure counts the JavaScript handle), for `go run . <capacity> <count>` (bench/speed.js).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	capacity, _ := strconv.Atoi(os.Args[1])
	n, _ := strconv.Atoi(os.Args[2])
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	chans := make([]chan float64, n)
	for i := range chans {
		chans[i] = make(chan float64, capacity)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("{\"bytesPerChan\": %.1f}\n", float64(after.HeapAlloc-before.HeapAlloc)/float64(n))
	runtime.KeepAlive(chans)
}
