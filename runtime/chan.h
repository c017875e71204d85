// goro::Chan<T>: Go's channels for goroutines: a typed, reference-counted handle over a
// type-erased channel core (Go's hchan): buffered or unbuffered, closable, nil-able.
// Select over several channels is in runtime/select.h.

#ifndef GORO_RUNTIME_CHAN_H_
#define GORO_RUNTIME_CHAN_H_

#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace goro {

template <typename T>
class Chan;

namespace runtime_internal {

// runtime_internal::ElemType describes a channel's element type to the type-erased core
// (Go's chantype.elem): size, alignment and the few operations the core needs. The
// copy and assignment entries are null when T lacks the operation; the core only uses
// them for places the typed layer marked as needing them.
struct ElemType {
  size_t size;
  size_t align;
  // new (dst) T(std::move(*src)).
  void (*move_construct)(void* dst, void* src);
  // new (dst) T(*src). Null unless T is copy-constructible.
  void (*copy_construct)(void* dst, const void* src);
  // *dst = std::move(*src). Null unless T is move-assignable.
  void (*move_assign)(void* dst, void* src);
  // *dst = *src. Null unless T is copy-assignable.
  void (*copy_assign)(void* dst, const void* src);
  // p->~T().
  void (*destroy)(void* p);
  // *dst = T() (Go's typedmemclr of a received zero value). Null unless T is
  // default-constructible and move-assignable; then a closed receive leaves *dst as is.
  void (*assign_zero)(void* dst);
};

template <typename T>
inline constexpr ElemType kElemType = {
    sizeof(T),
    alignof(T),
    [](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [] {
      if constexpr (std::is_copy_constructible_v<T>) {
        return +[](void* dst, const void* src) { ::new (dst) T(*static_cast<const T*>(src)); };
      } else {
        return static_cast<void (*)(void*, const void*)>(nullptr);
      }
    }(),
    [] {
      if constexpr (std::is_move_assignable_v<T>) {
        return +[](void* dst, void* src) {
          *static_cast<T*>(dst) = std::move(*static_cast<T*>(src));
        };
      } else {
        return static_cast<void (*)(void*, void*)>(nullptr);
      }
    }(),
    [] {
      if constexpr (std::is_copy_assignable_v<T>) {
        return +[](void* dst, const void* src) {
          *static_cast<T*>(dst) = *static_cast<const T*>(src);
        };
      } else {
        return static_cast<void (*)(void*, const void*)>(nullptr);
      }
    }(),
    [](void* p) { static_cast<T*>(p)->~T(); },
    [] {
      if constexpr (std::is_default_constructible_v<T> && std::is_move_assignable_v<T>) {
        return +[](void* dst) { *static_cast<T*>(dst) = T(); };
      } else {
        return static_cast<void (*)(void*)>(nullptr);
      }
    }(),
};

// runtime_internal::ElemSrc is where a sent element comes from: a live T that the core
// moves from (the owner destroys it afterwards, as usual), or copies when `copy`.
struct ElemSrc {
  void* p = nullptr;
  bool copy = false;
};

// runtime_internal::ElemDst is where a received element goes: uninitialised storage that
// the core constructs a T in (`raw`), or a live T that it assigns to. Null p: discard.
struct ElemDst {
  void* p = nullptr;
  bool raw = false;
};

// runtime_internal::RecvResult is the outcome of ChanRecv (Go's selected, received).
struct RecvResult {
  bool selected;  // the operation completed (false only for a non-blocking miss)
  bool received;  // a value was delivered (false: the channel is closed and drained)
};

// runtime_internal::ChanCore is the type-erased channel (Go's hchan), defined in
// runtime/chan_core.h. Reference-counted: NewChan returns one reference.
class ChanCore;

// runtime_internal::kMaxChanBufferBytes is the largest channel buffer (Go's maxAlloc on
// 64-bit Linux, 2^48 bytes).
inline constexpr size_t kMaxChanBufferBytes = size_t{1} << 48;

// runtime_internal::NewChan allocates a channel of `type` elements with room for
// `capacity` buffered elements (Go's makechan). Fatal ("makechan: size out of range") if
// the buffer is over kMaxChanBufferBytes or cannot be allocated.
// Thread safety: thread-safe.
ChanCore* NewChan(const ElemType* type, size_t capacity);

// runtime_internal::ChanRef / ChanUnref add and drop a reference; the last ChanUnref
// destroys buffered elements and frees the core. Both accept null.
// Thread safety: thread-safe.
void ChanRef(ChanCore* c);
void ChanUnref(ChanCore* c);

// runtime_internal::ChanSend sends the element at `src` (Go's chansend). If `block`,
// waits until it is delivered (or forever on a nil channel); otherwise returns false
// when it cannot complete at once. Fatal on a closed channel, including one closed while
// the sender waits. On true the core has moved (or copied) from src; on false src is
// untouched.
// Precondition: when `block`, called from a goroutine (fatal otherwise, naming
// goro::Chan::Send).
// Thread safety: thread-safe.
bool ChanSend(ChanCore* c, ElemSrc src, bool block);

// runtime_internal::ChanRecv receives into `dst` (Go's chanrecv): see RecvResult. On a
// closed, drained channel a live (non-raw) dst is assigned T() when T allows it.
// Precondition: when `block`, called from a goroutine (fatal otherwise, naming
// goro::Chan::Receive).
// Thread safety: thread-safe.
RecvResult ChanRecv(ChanCore* c, ElemDst dst, bool block);

// runtime_internal::ChanClose closes the channel and wakes every waiter (Go's closechan).
// Fatal on a nil or closed channel.
// Thread safety: thread-safe (any thread).
void ChanClose(ChanCore* c);

// runtime_internal::ChanLen / ChanCap: buffered elements now (a racy snapshot, as Go's
// len(c)) and buffer capacity; 0 for nil.
// Thread safety: thread-safe.
size_t ChanLen(const ChanCore* c);
size_t ChanCap(const ChanCore* c);

// The core of a Chan<T>; lets select.h build cases without friending every case type.
template <typename T>
ChanCore* CoreOf(const Chan<T>& c) {
  return c.core_;
}

}  // namespace runtime_internal

// goro::Chan<T> is a channel of T (Go's chan T). It is a handle: copies refer to the same
// channel, which lives while any handle (or blocked operation) refers to it, like a Go
// channel value. A default-constructed or null Chan is Go's nil channel: Send and Receive
// block forever, TrySend/TryReceive never succeed, Close is fatal, Len and Cap are 0, and
// a select case on it never fires. Create a real channel with Chan<T>(capacity) or
// goro::MakeChan<T>(capacity).
//
// Semantics are Go's: an unbuffered channel's Send completes only when a receiver takes
// the value (handed over directly from the sender's stack to the receiver's); a buffered
// channel holds up to Cap() values in FIFO order; waiting senders and receivers are served
// FIFO; Close wakes every waiter; receives from a closed channel drain the buffer, then
// report "closed" at once; sending on a closed channel is fatal ("goro: send on closed
// channel"), also for a sender that was blocked when the channel was closed.
//
// T must be move-constructible and destructible; it may be move-only (std::unique_ptr).
// Receive(T*) additionally needs move-assignment.
//
// Memory ordering: (as Go's memory model) a send happens-before the completion of the
// receive that gets its value; the close of a channel happens-before a receive that
// returns because the channel is closed; for an unbuffered channel, the receive
// happens-before the completion of the matching send; for capacity C, the k-th receive
// happens-before the (k+C)-th send completes.
//
// The operations are const: they act on the channel, not on the handle (so a lambda can
// capture a Chan by value without `mutable`).
//
// Thread safety: every method of a shared channel may be called concurrently; a single
// Chan handle object is like a shared_ptr (concurrent const use is fine; assigning to one
// handle while another thread uses it is not). Operations that may block must run on a
// goroutine; the Try* methods, Close, Len and Cap may run on any thread.
template <typename T>
class Chan {
  static_assert(std::is_move_constructible_v<T> && std::is_destructible_v<T>,
                "goro::Chan<T> needs a move-constructible, destructible T");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                "goro::Chan<T> needs a non-const object type");

 public:
  using value_type = T;

  // goro::Chan<T>::Chan() makes a nil channel (Go's `var c chan T`).
  // Thread safety: n/a (construction).
  Chan() noexcept = default;

  // goro::Chan<T>::Chan(nullptr) makes a nil channel (`c = nullptr` resets a handle to
  // nil). A template so that the integer literal 0 selects the capacity constructor.
  // Thread safety: n/a (construction).
  template <typename N, std::enable_if_t<std::is_same_v<N, std::nullptr_t>, int> = 0>
  Chan(N) noexcept {}  // NOLINT(google-explicit-constructor): like a null pointer.

  // goro::Chan<T>::Chan(capacity) makes a new channel with a buffer of `capacity`
  // elements; 0 is unbuffered (Go's make(chan T, capacity)). Fatal ("goro: makechan: size
  // out of range") if the buffer would be over 2^48 bytes (Go's limit) or cannot be
  // allocated; Go panics there, and goro's counterparts of Go's panics are fatal errors.
  // Thread safety: thread-safe.
  explicit Chan(size_t capacity)
      : core_(runtime_internal::NewChan(&runtime_internal::kElemType<T>, capacity)) {}

  // Copies share the channel; moves leave the source nil.
  // Thread safety: as a shared_ptr.
  Chan(const Chan& other) noexcept : core_(other.core_) { runtime_internal::ChanRef(core_); }
  Chan(Chan&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  Chan& operator=(const Chan& other) noexcept {
    runtime_internal::ChanRef(other.core_);
    runtime_internal::ChanUnref(std::exchange(core_, other.core_));
    return *this;
  }
  Chan& operator=(Chan&& other) noexcept {
    if (this != &other) {
      runtime_internal::ChanUnref(std::exchange(core_, std::exchange(other.core_, nullptr)));
    }
    return *this;
  }
  ~Chan() { runtime_internal::ChanUnref(core_); }

  // goro::Chan<T>::Send sends v (Go's `c <- v`), blocking until a receiver takes it
  // (unbuffered) or there is room in the buffer. On a nil channel it blocks forever
  // (wait reason "chan send (nil chan)"). Fatal if the channel is or becomes closed.
  // Precondition: called from a goroutine; from any other thread (a std::thread, a
  // library's callback thread, or outside goro::Run) it is fatal, whether or not it would
  // have blocked ("goro: goro::Chan::Send called from a thread that is not running a
  // goroutine").
  // Thread safety: thread-safe.
  void Send(T v) const { runtime_internal::ChanSend(core_, {&v, false}, /*block=*/true); }

  // goro::Chan<T>::TrySend sends v if that can complete at once (a receiver is waiting or
  // the buffer has room) and returns true; otherwise returns false and leaves v untouched
  // (a move-only argument is not lost). Go's select with a send case and a default.
  // Fatal on a closed channel.
  // Thread safety: thread-safe; any thread.
  bool TrySend(T&& v) const { return runtime_internal::ChanSend(core_, {&v, false}, false); }
  bool TrySend(const T& v) const
    requires std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>
  {
    return runtime_internal::ChanSend(core_, {const_cast<T*>(&v), true}, false);
  }

  // goro::Chan<T>::Receive waits for a value (Go's `v, ok := <-c`): returns it, or
  // nullopt once the channel is closed and drained. On a nil channel it blocks forever.
  // Precondition: called from a goroutine (fatal otherwise, as for Send).
  // Thread safety: thread-safe.
  std::optional<T> Receive() const {
    Slot slot;
    if (!runtime_internal::ChanRecv(core_, {slot.addr(), true}, true).received) {
      return std::nullopt;
    }
    return slot.Take();
  }

  // goro::Chan<T>::Receive(out) waits for a value and move-assigns it to *out; returns
  // false (and sets *out = T() when T is default-constructible) once the channel is
  // closed and drained. `out` may be null to discard the value.
  // Precondition: called from a goroutine (fatal otherwise, as for Send); T is
  // move-assignable.
  // Thread safety: thread-safe.
  bool Receive(T* out) const
    requires std::is_move_assignable_v<T>
  {
    return runtime_internal::ChanRecv(core_, {out, false}, true).received;
  }

  // goro::Chan<T>::TryReceive returns a value if one can be received at once; nullopt when
  // none is ready or the channel is closed and drained (use the other overload to tell
  // those apart).
  // Thread safety: thread-safe; any thread.
  std::optional<T> TryReceive() const {
    Slot slot;
    if (!runtime_internal::ChanRecv(core_, {slot.addr(), true}, false).received) {
      return std::nullopt;
    }
    return slot.Take();
  }

  // goro::Chan<T>::TryReceive(out, ok) receives if that can complete at once (Go's select
  // with a receive case and a default). Returns false if it would block. Otherwise
  // returns true and sets *ok (if ok is non-null): true with the value move-assigned to
  // *out (out may be null to discard it), false if the channel is closed and drained
  // (*out = T() when T is default-constructible).
  // Precondition: T is move-assignable.
  // Thread safety: thread-safe; any thread.
  bool TryReceive(T* out, bool* ok) const
    requires std::is_move_assignable_v<T>
  {
    runtime_internal::RecvResult r = runtime_internal::ChanRecv(core_, {out, false}, false);
    if (r.selected && ok != nullptr) *ok = r.received;
    return r.selected;
  }

  // goro::Chan<T>::Close closes the channel (Go's close(c)): no more sends; receivers
  // drain the buffer and then see "closed"; every blocked receiver wakes with "closed"
  // and every blocked sender dies ("send on closed channel"). Fatal on a nil channel
  // ("close of nil channel") or a closed one ("close of closed channel").
  // Thread safety: thread-safe; any thread.
  void Close() const { runtime_internal::ChanClose(core_); }

  // goro::Chan<T>::Len returns the number of buffered elements (a snapshot, as Go's
  // len(c)); Cap returns the buffer capacity. Both are 0 for a nil channel.
  // Thread safety: thread-safe; any thread.
  size_t Len() const { return runtime_internal::ChanLen(core_); }
  size_t Cap() const { return runtime_internal::ChanCap(core_); }

  // goro::Chan<T>::operator== compares channel identity (Go's c1 == c2); a nil channel
  // equals nullptr.
  // Thread safety: as a shared_ptr.
  friend bool operator==(const Chan& a, const Chan& b) { return a.core_ == b.core_; }
  friend bool operator==(const Chan& a, std::nullptr_t) { return a.core_ == nullptr; }
  explicit operator bool() const { return core_ != nullptr; }

 private:
  friend runtime_internal::ChanCore* runtime_internal::CoreOf<T>(const Chan<T>&);

  // Uninitialised storage for one T on the receiver's stack; the core constructs into it.
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
    void* addr() { return bytes; }
    T Take() {
      T* p = std::launder(reinterpret_cast<T*>(bytes));
      T v(std::move(*p));
      p->~T();
      return v;
    }
  };

  // Constant while the handle is not assigned to (a handle is not shared between threads
  // that mutate it, as a shared_ptr): one counted reference, or null for nil.
  runtime_internal::ChanCore* core_ = nullptr;
};

// goro::MakeChan returns a new channel of T with `capacity` buffered elements (Go's
// make(chan T, capacity)).
// Thread safety: thread-safe.
template <typename T>
Chan<T> MakeChan(size_t capacity = 0) {
  return Chan<T>(capacity);
}

}  // namespace goro

#endif  // GORO_RUNTIME_CHAN_H_
