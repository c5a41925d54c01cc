// names.cpp: the project's C++ unit. It uses no part of the C++ library,
// so that the C driver can link the program.
#include "calc.h"

namespace {

template <int N> struct Fact {
	static constexpr int value = N * Fact<N - 1>::value;
};
template <> struct Fact<0> {
	static constexpr int value = 1;
};

class Counter {
public:
	explicit Counter(int start) : n_(start) {}
	int twice() const { return 2 * n_; }

private:
	int n_;
};

} // namespace

extern "C" int calc_fact5(void)
{
	return Counter(Fact<5>::value).twice() / 2;
}
