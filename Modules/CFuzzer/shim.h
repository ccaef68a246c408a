// libFuzzer's driver, linked in by `-sanitize=fuzzer` (Scripts/fuzz); only the FUZZING build of calor-fuzz calls it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
