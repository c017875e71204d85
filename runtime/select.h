// goro::Select: wait on several channel operations at once and perform exactly one of
// them, chosen at random among those ready (Go's select statement, runtime selectgo).

#ifndef GORO_RUNTIME_SELECT_H_
#define GORO_RUNTIME_SELECT_H_

#include <initializer_list>
#include <span>
#include <type_traits>

#include "runtime/chan.h"

namespace goro {

class SelectCase;

namespace runtime_internal {
// Builds and reads SelectCases for OnSend/OnRecv and select.cc.
struct SelectCaseAccess;
}  // namespace runtime_internal

// goro::SelectCase is one case of a Select: a send of a value or a receive into a place.
// Make it with goro::OnSend or goro::OnRecv, inside the Select call's argument list: a
// case refers to the caller's value and result variables (and to temporaries of the full
// expression), so it must not outlive the Select call that uses it.
// Thread safety: a value type; not shared.
class SelectCase {
 public:
  SelectCase() = default;

 private:
  friend struct runtime_internal::SelectCaseAccess;

  SelectCase(runtime_internal::ChanCore* c, void* elem, bool send, bool copy, bool* ok)
      : c_(c), elem_(elem), ok_(ok), send_(send), copy_(copy) {}

  // Constant after construction. Null c_: a nil channel, never ready.
  runtime_internal::ChanCore* c_ = nullptr;
  void* elem_ = nullptr;  // send: the value (a live T); receive: *out (a live T) or null
  bool* ok_ = nullptr;    // receive: where to report value (true) or closed (false)
  bool send_ = false;
  bool copy_ = false;  // send: copy the value instead of moving from it
};

namespace runtime_internal {
struct SelectCaseAccess {
  static SelectCase Make(ChanCore* c, void* elem, bool send, bool copy, bool* ok) {
    return SelectCase(c, elem, send, copy, ok);
  }
  static ChanCore* chan(const SelectCase& sc) { return sc.c_; }
  static void* elem(const SelectCase& sc) { return sc.elem_; }
  static bool* ok(const SelectCase& sc) { return sc.ok_; }
  static bool send(const SelectCase& sc) { return sc.send_; }
  static bool copy(const SelectCase& sc) { return sc.copy_; }
};
}  // namespace runtime_internal

// goro::OnSend is a case that sends v on c (Go's `case c <- v:`). If this case is chosen,
// v is moved from (it stays untouched otherwise); pass std::move(x) or a temporary. The
// const& overload copies v instead and leaves it untouched either way. A send on a closed
// channel is fatal when the case is chosen, as in Go.
// Thread safety: as SelectCase.
template <typename T>
SelectCase OnSend(const Chan<T>& c, std::type_identity_t<T>&& v) {
  return runtime_internal::SelectCaseAccess::Make(runtime_internal::CoreOf(c), &v,
                                                  /*send=*/true, /*copy=*/false, nullptr);
}
template <typename T>
SelectCase OnSend(const Chan<T>& c, const std::type_identity_t<T>& v)
  requires std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>
{
  return runtime_internal::SelectCaseAccess::Make(runtime_internal::CoreOf(c), const_cast<T*>(&v),
                                                  /*send=*/true, /*copy=*/true, nullptr);
}

// goro::OnRecv is a case that receives from c (Go's `case v, ok := <-c:`). If chosen, the
// value is move-assigned to *out (null out: discarded) and *ok (if non-null) is set to
// true; if the channel is closed and drained, *out is set to T() (when T is
// default-constructible) and *ok to false. Neither is touched if another case is chosen.
// Thread safety: as SelectCase.
template <typename T>
SelectCase OnRecv(const Chan<T>& c, std::type_identity_t<T>* out, bool* ok = nullptr)
  requires std::is_move_assignable_v<T>
{
  return runtime_internal::SelectCaseAccess::Make(runtime_internal::CoreOf(c), out,
                                                  /*send=*/false, /*copy=*/false, ok);
}

// goro::Select performs one of `cases` and returns its index (Go's select, selectgo):
//   - if some cases are ready (a partner is waiting, the buffer allows it, or — for a
//     receive — the channel is closed), one of them is chosen uniformly at random;
//   - otherwise, with `has_default`, returns -1 at once (Go's `default:`);
//   - otherwise blocks until one case can proceed and performs exactly that one.
// Cases on nil channels never fire. With no cases (or only nil ones) and no default, the
// goroutine blocks forever (wait reason "select (no cases)" / "select"). The same channel
// may appear in several cases.
// Precondition: called from a goroutine unless has_default (a non-blocking Select may run
// on any thread); a Select without default on any other thread is fatal ("goro:
// goro::Select called from a thread that is not running a goroutine"), ready cases or
// not. At most 65535 cases (fatal otherwise).
// Thread safety: thread-safe.
int Select(std::span<const SelectCase> cases, bool has_default = false);
inline int Select(std::initializer_list<SelectCase> cases, bool has_default = false) {
  return Select(std::span<const SelectCase>(cases.begin(), cases.size()), has_default);
}

// goro::kSelectDefault reads better than `true` at a call site:
//   goro::Select({goro::OnRecv(c, &v)}, goro::kSelectDefault)
inline constexpr bool kSelectDefault = true;

}  // namespace goro

#endif  // GORO_RUNTIME_SELECT_H_
