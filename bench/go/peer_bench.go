// Go peer of goro's benchmarks: the workloads of bench/README.md on the Go runtime, printed
// as name<TAB>metric<TAB>value<TAB>unit lines, one per repetition. Standard library only:
// `cd bench/go && go run .` (or `go run peer_bench.go`) works offline.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Workload sizes; bench/boost/boost_peer_bench.cc uses the same numbers.
const (
	yieldIters   = 500_000 // yields per goroutine
	chanIters    = 200_000 // round trips
	fanOutChunks = 256
	fanOutIters  = 100_000 // hash rounds per chunk
)

// spawnN is the goroutine count of the spawn cases (-spawn_n; compare.py uses 100k, or 1M
// with --full).
var spawnN = 1_000_000

func emit(name, metric string, value float64, unit string) {
	fmt.Printf("%s\t%s\t%.6g\t%s\n", name, metric, value, unit)
}

func nsPer(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// benchYield: two goroutines call runtime.Gosched in a loop on one P.
func benchYield() float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var wg sync.WaitGroup
	wg.Add(2)
	body := func() {
		for i := 0; i < yieldIters; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	start := time.Now()
	go body()
	go body()
	wg.Wait()
	return nsPer(time.Since(start), 2*yieldIters)
}

// benchChanPingPong: this goroutine sends i on ping, a peer echoes it on pong (unbuffered).
func benchChanPingPong(procs int) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	ping := make(chan int64)
	pong := make(chan int64)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	for i := int64(0); i < chanIters; i++ {
		ping <- i
		if <-pong != i {
			panic("ping-pong: wrong value")
		}
	}
	close(ping)
	<-done
	return nsPer(time.Since(start), chanIters)
}

// benchSpawnJoin: `go f()` spawnN times, f calls wg.Done, then wg.Wait.
func benchSpawnJoin(procs int) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var wg sync.WaitGroup
	wg.Add(spawnN)
	start := time.Now()
	for i := 0; i < spawnN; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return nsPer(time.Since(start), spawnN)
}

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	fields := strings.Fields(string(data))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * int64(os.Getpagesize())
}

func countMappings() int {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		panic(err)
	}
	return bytes.Count(data, []byte{'\n'})
}

// parkedOnce runs in a fresh process: spawnN goroutines each block on one channel.
func parkedOnce() {
	runtime.GOMAXPROCS(1)
	gate := make(chan struct{})
	var started, exited sync.WaitGroup
	started.Add(spawnN)
	exited.Add(spawnN)
	rss0, maps0 := residentBytes(), countMappings()
	start := time.Now()
	for i := 0; i < spawnN; i++ {
		go func() {
			started.Done()
			<-gate
			exited.Done()
		}()
	}
	started.Wait()
	elapsed := time.Since(start)
	rss1, maps1 := residentBytes(), countMappings()
	close(gate)
	exited.Wait()
	name := fmt.Sprintf("BM_Spawn_Parked/n:%d/procs:1", spawnN)
	emit(name, "spawn_per_g", nsPer(elapsed, spawnN), "ns")
	emit(name, "rss_per_g", float64(rss1-rss0)/float64(spawnN), "B")
	emit(name, "maps", float64(maps1), "count")
	emit(name, "maps_delta", float64(maps1-maps0), "count")
}

// hashChunk is the fan-out's unit of work: a serial chain of splitmix64 rounds, identical
// to HashChunk in bench/boost/boost_peer_bench.cc.
func hashChunk(seed uint64, iters int) uint64 {
	x := seed
	for i := 0; i < iters; i++ {
		x += 0x9E3779B97F4A7C15
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
		x = (x ^ (x >> 27)) * 0x94D049BB133111EB
		x ^= x >> 31
	}
	return x
}

// benchFanOut: fanOutChunks goroutines, one chunk each, on `procs` Ps; returns ms.
func benchFanOut(procs int) (float64, uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	out := make([]uint64, fanOutChunks)
	var wg sync.WaitGroup
	wg.Add(fanOutChunks)
	start := time.Now()
	for c := 0; c < fanOutChunks; c++ {
		go func(c int) {
			out[c] = hashChunk(uint64(c), fanOutIters)
			wg.Done()
		}(c)
	}
	wg.Wait()
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	var sum uint64
	for _, v := range out {
		sum ^= v
	}
	return ms, sum
}

// runChild re-runs this executable with args and forwards its lines.
func runChild(args ...string) {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go_peer_bench: child %v: %v\n", args, err)
		os.Exit(2)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
}

func main() {
	reps := flag.Int("reps", 5, "repetitions per case; the spawn cases run min(reps, 3) times")
	child := flag.String("child", "", "internal: run one case in this fresh process (parked)")
	flag.IntVar(&spawnN, "spawn_n", spawnN, "goroutines in the spawn cases")
	flag.Parse()
	if *child == "parked" {
		parkedOnce()
		return
	}
	if *reps < 1 || spawnN < 1 {
		fmt.Fprintln(os.Stderr, "go_peer_bench: -reps and -spawn_n must be >= 1")
		os.Exit(2)
	}
	all := runtime.NumCPU()
	bigReps := *reps
	if bigReps > 3 {
		bigReps = 3
	}
	fmt.Printf("# impl=go version=%s procs_all=%d reps=%d\n", runtime.Version(), all, *reps)

	for r := 0; r < *reps; r++ {
		emit("BM_Yield_PingPong/procs:1", "yield", benchYield(), "ns")
	}
	for r := 0; r < *reps; r++ {
		emit("BM_Chan_PingPong/procs:1", "round_trip", benchChanPingPong(1), "ns")
	}
	for r := 0; r < *reps; r++ {
		emit("BM_Chan_PingPong/procs:all", "round_trip", benchChanPingPong(all), "ns")
	}
	for _, p := range []struct {
		procs int
		label string
	}{{1, "1"}, {all, "all"}} {
		for r := 0; r < bigReps; r++ {
			emit(fmt.Sprintf("BM_Spawn_Join/n:%d/procs:%s", spawnN, p.label), "per_g",
				benchSpawnJoin(p.procs), "ns")
		}
	}
	for r := 0; r < bigReps; r++ {
		runChild("-child=parked", fmt.Sprintf("-spawn_n=%d", spawnN))
	}
	fan := fmt.Sprintf("BM_FanOut_Hash/chunks:%d", fanOutChunks)
	var checksum uint64
	for r := 0; r < *reps; r++ {
		one, sum1 := benchFanOut(1)
		many, sumAll := benchFanOut(all)
		if sum1 != sumAll {
			panic("fan-out: checksums differ")
		}
		checksum = sum1
		emit(fan+"/procs:1", "wall", one, "ms")
		emit(fan+"/procs:all", "wall", many, "ms")
		emit(fan, "speedup", one/many, "x")
	}
	fmt.Printf("# fanout_checksum=%016x\n", checksum)
}
