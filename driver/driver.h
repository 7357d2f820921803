/* driver.h - shared between the qnnc command's files. */
#ifndef QNNC_DRIVER_H
#define QNNC_DRIVER_H

/* Print "qnnc: <fmt with arg>" and the --help hint, exit 2. */
_Noreturn void drv_usage_error(const char *fmt, const char *arg);

/* --help text. */
void drv_print_help(void);

/* The compile command: qnnc [options] MODEL.onnx -o OUT. */
int drv_compile(int argc, char **argv);

#endif
