// Go peer of bench/preempt_gc_benchmark.cc (preemption and the concurrent collector): the
// same workloads on the Go runtime, printed as name<TAB>metric<TAB>value<TAB>unit lines
// (medians with _min and _max, like goro's). Standard library only:
//
//	cd bench/go && go run ./gcpause -reps=7 -max_n=1000000
//
// A cycle's pause is what runtime/debug.ReadGCStats reports after runtime.GC(): the sum of
// the cycle's stop-the-world pauses.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var reps = 7

func emit(name, metric string, values []float64, unit string) {
	sort.Float64s(values)
	fmt.Printf("%s\t%s\t%.6g\t%s\n", name, metric, values[len(values)/2], unit)
	fmt.Printf("%s\t%s_min\t%.6g\t%s\n", name, metric, values[0], unit)
	fmt.Printf("%s\t%s_max\t%.6g\t%s\n", name, metric, values[len(values)-1], unit)
}

// touchStack uses about 1 KiB of stack per level.
//
//go:noinline
func touchStack(depth int) int {
	var frame [1024]byte
	for i := 0; i < len(frame); i += 256 {
		frame[i] = byte(depth + i)
	}
	if depth == 0 {
		return int(frame[0])
	}
	return touchStack(depth-1) + int(frame[512])
}

var sink int64

// spinUntil is a pure CPU loop.
//
//go:noinline
func spinUntil(stop *atomic.Bool) {
	x := uint64(1)
	for !stop.Load() {
		x = x*6364136223846793005 + 1
	}
	atomic.AddInt64(&sink, int64(x&1))
}

func spawnWaiters(n, depth int, wake chan int, parked *sync.WaitGroup) {
	parked.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			parked.Done()
			for range wake {
				if depth > 0 {
					atomic.AddInt64(&sink, int64(touchStack(depth)))
				}
				parked.Done()
			}
		}()
	}
	parked.Wait()
}

func lastPause() time.Duration {
	var st debug.GCStats
	debug.ReadGCStats(&st)
	return st.Pause[0]
}

func gcPause(n int, shape string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	deep := shape == "deep"
	depth := 0
	if deep {
		depth = 16
	}
	wake := make(chan int)
	var parked sync.WaitGroup
	spawnWaiters(n, depth, wake, &parked)
	var stop atomic.Bool
	var spinners sync.WaitGroup
	if shape == "spinners" {
		spinners.Add(2)
		for i := 0; i < 2; i++ {
			go func() { spinUntil(&stop); spinners.Done() }()
		}
	}
	time.Sleep(20 * time.Millisecond)
	runtime.GC()
	var total, cycle []float64
	for r := 0; r < reps; r++ {
		if deep {
			parked.Add(n)
			for i := 0; i < n; i++ {
				wake <- i
			}
			parked.Wait()
			time.Sleep(10 * time.Millisecond)
		}
		t0 := time.Now()
		runtime.GC()
		cycle = append(cycle, float64(time.Since(t0).Nanoseconds())/1e6)
		total = append(total, float64(lastPause().Nanoseconds())/1e3)
	}
	name := fmt.Sprintf("BM_GCPause/%d/%s", n, shape)
	emit(name, "total_pause", total, "us")
	emit(name, "cycle", cycle, "ms")
	stop.Store(true)
	spinners.Wait()
	close(wake)
}

func tickerGap() {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var maxs, p99s []float64
	for r := 0; r < reps; r++ {
		var stop atomic.Bool
		var done sync.WaitGroup
		done.Add(1)
		go func() { spinUntil(&stop); done.Done() }()
		time.Sleep(time.Millisecond)
		var gaps []float64
		last := time.Now()
		end := last.Add(time.Second)
		for last.Before(end) {
			time.Sleep(time.Millisecond)
			now := time.Now()
			gaps = append(gaps, float64(now.Sub(last).Nanoseconds())/1e6)
			last = now
		}
		stop.Store(true)
		done.Wait()
		sort.Float64s(gaps)
		maxs = append(maxs, gaps[len(gaps)-1])
		p99s = append(p99s, gaps[len(gaps)*99/100])
	}
	emit("BM_TickerGap", "max_gap", maxs, "ms")
	emit("BM_TickerGap", "p99_gap", p99s, "ms")
}

func collectBehindSpinners() {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var stop atomic.Bool
	var done sync.WaitGroup
	done.Add(2)
	for i := 0; i < 2; i++ {
		go func() { spinUntil(&stop); done.Done() }()
	}
	var ms []float64
	for r := 0; r < reps; r++ {
		time.Sleep(30 * time.Millisecond)
		t0 := time.Now()
		runtime.GC()
		ms = append(ms, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	stop.Store(true)
	done.Wait()
	emit("BM_CollectBehindSpinners", "collect", ms, "ms")
}

func pingPongRate(window time.Duration) float64 {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	trips := 0
	t0 := time.Now()
	end := t0.Add(window)
	now := t0
	for now.Before(end) {
		for i := 0; i < 256; i++ {
			ping <- i
			<-pong
		}
		trips += 256
		now = time.Now()
	}
	close(ping)
	return float64(trips) / now.Sub(t0).Seconds()
}

func pingPongDuringGC() {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	wake := make(chan int)
	var parked sync.WaitGroup
	spawnWaiters(10000, 0, wake, &parked)
	var alone, during, ratio, cycles []float64
	for r := 0; r < reps; r++ {
		a := pingPongRate(500 * time.Millisecond)
		var stop atomic.Bool
		var n int64
		var collector sync.WaitGroup
		collector.Add(1)
		go func() {
			for !stop.Load() {
				runtime.GC()
				atomic.AddInt64(&n, 1)
			}
			collector.Done()
		}()
		d := pingPongRate(500 * time.Millisecond)
		stop.Store(true)
		collector.Wait()
		alone = append(alone, a)
		during = append(during, d)
		ratio = append(ratio, d/a)
		cycles = append(cycles, float64(atomic.LoadInt64(&n))*2)
	}
	emit("BM_PingPongDuringGC", "alone", alone, "trips/s")
	emit("BM_PingPongDuringGC", "during", during, "trips/s")
	emit("BM_PingPongDuringGC", "ratio", ratio, "x")
	emit("BM_PingPongDuringGC", "cycles", cycles, "cycles/s")
	close(wake)
}

func main() {
	maxN := flag.Int("max_n", 1000000, "largest goroutine count of the pause cases")
	only := flag.String("only", "", "run only the cases whose name contains this")
	flag.IntVar(&reps, "reps", reps, "repetitions per case")
	flag.Parse()
	if reps < 1 {
		fmt.Fprintln(os.Stderr, "gcpause: -reps must be positive")
		os.Exit(2)
	}
	want := func(name string) bool { return *only == "" || strings.Contains(name, *only) }
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		if n > *maxN {
			continue
		}
		for _, shape := range []string{"parked", "deep", "spinners"} {
			if shape == "deep" && n > 100000 {
				continue
			}
			if want(fmt.Sprintf("BM_GCPause/%d/%s", n, shape)) {
				gcPause(n, shape)
			}
		}
	}
	if want("BM_TickerGap") {
		tickerGap()
	}
	if want("BM_CollectBehindSpinners") {
		collectBehindSpinners()
	}
	if want("BM_PingPongDuringGC") {
		pingPongDuringGC()
	}
}
