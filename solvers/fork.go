package solvers

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// forkJoin runs the two halves of a short computation (tens of
// microseconds) on two goroutines. Waking a parked goroutine costs about as
// much as such a half on a virtual machine, so between the calls of a solve
// the helper goroutine spins, and parks only after idleSpin without work.
//
// Half 1 is claimed with a compare-and-swap by whichever goroutine gets to
// it first: if the helper is late (not started yet, descheduled, parked),
// the caller runs both halves itself. The halves must therefore not depend
// on which goroutine runs them, and the results never do.
type forkJoin struct {
	tasks []func(half int) // registered once; run(id) calls tasks[id]
	task  func(half int)   // the task of the current run

	gen     atomic.Uint64 // runs posted
	claim   atomic.Uint64 // last run whose half 1 was claimed
	done    atomic.Uint64 // last run whose half 1 finished
	parked  atomic.Bool
	stop    atomic.Bool
	wake    chan struct{}
	exited  sync.WaitGroup
	running bool
}

// idleSpin is how long the helper spins without work before it parks.
const idleSpin = 200 * time.Microsecond

// start starts the helper goroutine if there are two processors to run on.
func (f *forkJoin) start() {
	if f.running || runtime.GOMAXPROCS(0) < 2 {
		return
	}
	if f.wake == nil {
		f.wake = make(chan struct{}, 1)
	}
	f.exited.Add(1)
	f.stop.Store(false)
	f.parked.Store(false)
	f.running = true
	go f.helper(f.gen.Load())
}

// end stops the helper goroutine and waits for it to exit.
func (f *forkJoin) end() {
	if !f.running {
		return
	}
	f.stop.Store(true)
	if f.parked.CompareAndSwap(true, false) {
		f.wake <- struct{}{}
	}
	f.exited.Wait()
	f.running = false
}

// register adds a task and returns its id for run and runCoupled.
func (f *forkJoin) register(task func(half int)) int {
	f.tasks = append(f.tasks, task)
	return len(f.tasks) - 1
}

// run calls task(0) and task(1) of the task id, concurrently when the
// helper is running, and returns when both have returned.
func (f *forkJoin) run(id int) {
	f.task = f.tasks[id]
	g := f.gen.Add(1)
	if f.running && f.parked.CompareAndSwap(true, false) {
		f.wake <- struct{}{}
	}
	f.task(0)
	if f.claim.CompareAndSwap(g-1, g) {
		f.task(1)
		f.done.Store(g)
		return
	}
	for spins := 1; f.done.Load() != g; spins++ {
		spinPause()
		if spins%1024 == 0 {
			runtime.Gosched()
		}
	}
}

// runCoupled is run for halves that wait for each other's progress: it
// calls task(0) and task(1) of the task id concurrently if the helper takes
// half 1 within joinSpins polls, and task(-1) — the whole computation in
// this goroutine — otherwise.
func (f *forkJoin) runCoupled(id int) {
	f.task = f.tasks[id]
	g := f.gen.Add(1)
	if f.running {
		if f.parked.CompareAndSwap(true, false) {
			f.wake <- struct{}{}
		}
		for spins := 0; spins < joinSpins; spins++ {
			if f.claim.Load() == g {
				break
			}
			spinPause()
		}
	}
	if f.claim.CompareAndSwap(g-1, g) {
		f.task(-1)
		f.done.Store(g)
		return
	}
	f.task(0)
	for spins := 1; f.done.Load() != g; spins++ {
		spinPause()
		if spins%1024 == 0 {
			runtime.Gosched()
		}
	}
}

// joinSpins bounds how long runCoupled waits for the helper (a few
// microseconds: the helper, when spinning, answers in well under one).
const joinSpins = 4096

func (f *forkJoin) helper(seen uint64) {
	defer f.exited.Done()
	idleSince := time.Now()
	for spins := 1; ; spins++ {
		if f.stop.Load() {
			return
		}
		if g := f.gen.Load(); g != seen {
			seen = g
			if f.claim.CompareAndSwap(g-1, g) {
				f.task(1)
				f.done.Store(g)
			}
			idleSince = time.Now()
			continue
		}
		spinPause()
		if spins%256 != 0 {
			continue
		}
		runtime.Gosched() // let other goroutines of the program have this P
		if time.Since(idleSince) < idleSpin {
			continue
		}
		f.parked.Store(true)
		if f.gen.Load() != seen || f.stop.Load() {
			// Work (or the stop) arrived meanwhile: unpark, unless the
			// poster already did and sent a token.
			if !f.parked.CompareAndSwap(true, false) {
				<-f.wake
			}
		} else {
			<-f.wake
		}
		idleSince = time.Now()
	}
}
