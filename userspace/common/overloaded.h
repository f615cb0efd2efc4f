// The usual visitor helper for std::visit: Overloaded{[](const A&) {...}, [](const B&) {...}}.
#pragma once

namespace shim {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace shim
