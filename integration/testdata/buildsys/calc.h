/* calc.h: the one header of the build-systems test project. */
#ifndef CALC_H
#define CALC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CALC_SCALE
#define CALC_SCALE 3
#endif

/* A macro call spread over two lines in add.c and mul.c: debug
   information records its lines and columns. */
#define CALC_MUL(a, b) ((a) * (b) * CALC_SCALE)

int calc_add(int a, int b);
int calc_mul(int a, int b);
int calc_format(char *buf, size_t n, int v);
int calc_fact5(void);

#ifdef __cplusplus
}
#endif

#endif
