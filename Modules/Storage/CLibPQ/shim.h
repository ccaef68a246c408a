#ifndef CALOR_CLIBPQ_SHIM_H
#define CALOR_CLIBPQ_SHIM_H
// Debian and Ubuntu install libpq's header under /usr/include/postgresql; pkg-config adds that folder when it is
// present, and the fallback below finds it when it is not.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#endif
