#include "calc.h"

int calc_mul(int a, int b)
{
	return CALC_MUL(a,
		b) / CALC_SCALE;
}
