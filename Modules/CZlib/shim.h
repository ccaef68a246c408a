#ifndef CALOR_CZLIB_SHIM_H
#define CALOR_CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 is a macro, which Swift cannot call: this starts a stream that reads gzip or zlib (15 + 32).
static inline int calor_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}

#endif
