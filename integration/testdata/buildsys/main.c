#include <stdio.h>
#include "calc.h"

int main(void)
{
	char buf[64];
	calc_format(buf, sizeof buf, calc_add(calc_mul(6, 7), calc_fact5()));
	printf("calc %s\n", buf);
	return 0;
}
