#include "calc.h"

int calc_add(int a, int b)
{
	return a + CALC_MUL(b,
		1) / CALC_SCALE;
}
