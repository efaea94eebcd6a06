# Types for the compiled core (see setup.py); trace_events.py is the source.

cimport cython

from zsim.kernel.core cimport Kernel
from zsim.net_buf cimport NetBuf, NetBufPool
from zsim.packet_io.queue cimport PacketEventQueue


cdef extern from *:
    """
    /* JSON lines appended to a bytearray used as a buffer: each function writes at
       offset n, growing the bytearray when needed, and returns the new length (-1 with
       an exception set on failure). Every text written is ASCII (JSON as
       json.encoder.encode_basestring_ascii writes it). */
    static CYTHON_INLINE Py_ssize_t zsim_room(PyObject *ba, Py_ssize_t n, Py_ssize_t more)
    {
        Py_ssize_t cap = PyByteArray_GET_SIZE(ba);
        if (n + more <= cap)
            return n;
        if (cap < 4096)
            cap = 4096;
        while (cap < n + more)
            cap *= 2;
        return PyByteArray_Resize(ba, cap) < 0 ? -1 : n;
    }

    static CYTHON_INLINE Py_ssize_t zsim_raw(PyObject *ba, Py_ssize_t n, const char *s, Py_ssize_t len)
    {
        if (zsim_room(ba, n, len) < 0)
            return -1;
        memcpy(PyByteArray_AS_STRING(ba) + n, s, len);
        return n + len;
    }

    static CYTHON_INLINE Py_ssize_t zsim_text(PyObject *ba, Py_ssize_t n, PyObject *s)
    {
        Py_ssize_t len;
        const char *p = PyUnicode_AsUTF8AndSize(s, &len);
        return p == NULL ? -1 : zsim_raw(ba, n, p, len);
    }

    static CYTHON_INLINE Py_ssize_t zsim_ull(PyObject *ba, Py_ssize_t n, unsigned long long v, int neg)
    {
        char t[24];
        int i = 24;
        do {
            t[--i] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (neg)
            t[--i] = '-';
        return zsim_raw(ba, n, t + i, 24 - i);
    }

    static CYTHON_INLINE Py_ssize_t zsim_ll(PyObject *ba, Py_ssize_t n, long long v)
    {
        return v < 0 ? zsim_ull(ba, n, 0ULL - (unsigned long long)v, 1)
                     : zsim_ull(ba, n, (unsigned long long)v, 0);
    }

    /* A Python int as str() writes it. */
    static CYTHON_INLINE Py_ssize_t zsim_int(PyObject *ba, Py_ssize_t n, PyObject *v)
    {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (overflow) {
            PyObject *s = PyObject_Str(v);
            if (s == NULL)
                return -1;
            n = zsim_text(ba, n, s);
            Py_DECREF(s);
            return n;
        }
        return zsim_ll(ba, n, x);
    }

    /* Eight hex digits, as f"{v:08x}" writes a CRC-32. */
    static CYTHON_INLINE Py_ssize_t zsim_hex8(PyObject *ba, Py_ssize_t n, unsigned long v)
    {
        static const char digits[] = "0123456789abcdef";
        char t[10];
        int i;
        t[0] = t[9] = '"';
        for (i = 8; i >= 1; i--) {
            t[i] = digits[v & 0xf];
            v >>= 4;
        }
        return zsim_raw(ba, n, t, 10);
    }

    /* A str as a JSON string when it is printable ASCII with no quote or backslash (as
       json.dumps writes it); 0 (nothing written) when it needs escaping. */
    static CYTHON_INLINE Py_ssize_t zsim_plain_str(PyObject *ba, Py_ssize_t n, PyObject *s)
    {
        Py_ssize_t len, i;
        const unsigned char *p;
        char *out;
        if (!PyUnicode_IS_ASCII(s))
            return 0;
        len = PyUnicode_GET_LENGTH(s);
        p = PyUnicode_1BYTE_DATA(s);
        for (i = 0; i < len; i++)
            if (p[i] < 0x20 || p[i] == 0x22 || p[i] == 0x5c || p[i] == 0x7f)
                return 0;
        if (zsim_room(ba, n, len + 2) < 0)
            return -1;
        out = PyByteArray_AS_STRING(ba) + n;
        out[0] = '"';
        memcpy(out + 1, p, len);
        out[len + 1] = '"';
        return n + len + 2;
    }

    /* CRC-32 of len bytes at offset head of a bytearray, continuing crc, by zlib's own
       crc32 when setup.py found zlib for C (ZSIM_ZLIB); zsim_zlib() says whether. */
    #ifdef ZSIM_ZLIB
    #include <zlib.h>
    static CYTHON_INLINE int zsim_zlib(void) { return 1; }
    static CYTHON_INLINE unsigned long zsim_crc32(unsigned long crc, PyObject *storage,
                                                  Py_ssize_t head, Py_ssize_t len)
    {
        return crc32(crc, (const Bytef *)PyByteArray_AS_STRING(storage) + head, (uInt)len);
    }
    #else
    static CYTHON_INLINE int zsim_zlib(void) { return 0; }
    static CYTHON_INLINE unsigned long zsim_crc32(unsigned long crc, PyObject *storage,
                                                  Py_ssize_t head, Py_ssize_t len)
    {
        (void)storage; (void)head; (void)len;
        return crc;
    }
    #endif

    /* A read-only view of len bytes at offset head of a bytearray (a buffer's data in its
       pool's storage), with no slice object made. */
    static CYTHON_INLINE PyObject *zsim_view(PyObject *storage, Py_ssize_t head,
                                             Py_ssize_t len)
    {
        return PyMemoryView_FromMemory(PyByteArray_AS_STRING(storage) + head, len, PyBUF_READ);
    }

    static CYTHON_INLINE Py_ssize_t zsim_double(PyObject *ba, Py_ssize_t n, double v);

    /* An event's fields from field i on: each its separator (seps, bytes) and value
       (values), written as its code says (codes, ASCII bytes: see EventKind). Stops at a
       field it leaves to the caller, with its separator written and its index in *stop:
       a buffer (code b or B), a string that needs escaping, or an object missing from
       names (object -> JSON string); *stop is -1 when all are written. Returns the new
       length, or -1 with an exception set. */
    static Py_ssize_t zsim_fields(PyObject *ba, Py_ssize_t n, PyObject *codes,
                                  PyObject *seps, PyObject *values, PyObject *names,
                                  Py_ssize_t i, Py_ssize_t *stop)
    {
        const char *c = PyBytes_AS_STRING(codes);
        Py_ssize_t count = PyTuple_GET_SIZE(values), m;
        PyObject *sep, *v, *t;
        *stop = -1;
        for (; i < count; i++) {
            sep = PyTuple_GET_ITEM(seps, i);
            v = PyTuple_GET_ITEM(values, i);
            n = zsim_raw(ba, n, PyBytes_AS_STRING(sep), PyBytes_GET_SIZE(sep));
            if (n < 0)
                return -1;
            if (v == Py_None) {
                n = zsim_raw(ba, n, "null", 4);
            } else if (c[i] == 'd') {
                n = zsim_int(ba, n, v);
            } else if (c[i] == 'x') {
                n = zsim_hex8(ba, n, PyLong_AsUnsignedLongMask(v));
            } else if (c[i] == 'F') {
                n = zsim_double(ba, n, PyFloat_AsDouble(v));
            } else if (c[i] == 'n' || c[i] == 'N') {
                t = PyDict_GetItemWithError(names, v);
                if (t == NULL) {
                    if (PyErr_Occurred())
                        return -1;
                    *stop = i;
                    return n;
                }
                n = zsim_text(ba, n, t);
            } else if (c[i] == 'b' || c[i] == 'B' || !PyUnicode_Check(v)) {
                *stop = i;
                return n;
            } else {
                m = zsim_plain_str(ba, n, v);
                if (m == 0) {
                    *stop = i;
                    return n;
                }
                n = m;
            }
            if (n < 0 || PyErr_Occurred())
                return -1;
        }
        return n;
    }

    /* Bytes start to end of a bytearray, as a bytes object. */
    static CYTHON_INLINE PyObject *zsim_copy(PyObject *ba, Py_ssize_t start, Py_ssize_t end)
    {
        return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(ba) + start, end - start);
    }

    /* A float as repr() (and json.dumps) writes it. */
    /* Whole numbers, and below 2**40 multiples of 0.001, take a fast path: there the
       multiples of 0.001 are over 4 ulp apart, so the decimal k/1000 with its trailing
       zeros dropped is the shortest string that reads back as v, which repr gives. */
    static CYTHON_INLINE Py_ssize_t zsim_double(PyObject *ba, Py_ssize_t n, double v)
    {
        char *s, frac[4];
        long long k;
        int len;
        if (v > 0.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
            n = zsim_ll(ba, n, (long long)v);
            return n < 0 ? -1 : zsim_raw(ba, n, ".0", 2);
        }
        if (v >= 0.001 && v < 1099511627776.0) {
            k = (long long)(v * 1000.0 + 0.5);
            if ((double)k / 1000.0 == v && k % 1000 != 0) {
                n = zsim_ll(ba, n, k / 1000);
                if (n < 0)
                    return -1;
                frac[0] = '.';
                frac[1] = (char)('0' + k / 100 % 10);
                frac[2] = (char)('0' + k / 10 % 10);
                frac[3] = (char)('0' + k % 10);
                len = 4;
                while (frac[len - 1] == '0')
                    len--;
                return zsim_raw(ba, n, frac, len);
            }
        }
        s = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (s == NULL)
            return -1;
        n = zsim_raw(ba, n, s, (Py_ssize_t)strlen(s));
        PyMem_Free(s);
        return n;
    }
    """
    Py_ssize_t zsim_text(bytearray ba, Py_ssize_t n, str s) except -1
    Py_ssize_t zsim_raw(bytearray ba, Py_ssize_t n, const char *s, Py_ssize_t len) except -1
    Py_ssize_t zsim_ll(bytearray ba, Py_ssize_t n, long long v) except -1
    Py_ssize_t zsim_ull(bytearray ba, Py_ssize_t n, unsigned long long v, int neg) except -1
    Py_ssize_t zsim_int(bytearray ba, Py_ssize_t n, object v) except -1
    Py_ssize_t zsim_hex8(bytearray ba, Py_ssize_t n, unsigned long v) except -1
    Py_ssize_t zsim_double(bytearray ba, Py_ssize_t n, double v) except -1
    Py_ssize_t zsim_plain_str(bytearray ba, Py_ssize_t n, str s) except -1
    object zsim_view(bytearray storage, Py_ssize_t head, Py_ssize_t len)
    bint zsim_zlib()
    unsigned long zsim_crc32(unsigned long crc, bytearray storage, Py_ssize_t head,
                             Py_ssize_t len)
    bytes zsim_copy(bytearray ba, Py_ssize_t start, Py_ssize_t end)
    Py_ssize_t zsim_fields(bytearray ba, Py_ssize_t n, bytes codes, tuple seps, tuple values,
                           dict names, Py_ssize_t i, Py_ssize_t *stop) except -1


@cython.final
cdef class EventKind:
    cdef public str name
    cdef public tuple keys
    cdef public str codes
    cdef public str head
    cdef public tuple seps
    cdef public bytes head_b
    cdef public tuple seps_b
    cdef public bytes codes_b

    @cython.locals(i=Py_ssize_t, code=Py_UCS4, out=list)
    cpdef tuple plain(self, tuple values)


@cython.locals(b=NetBuf, n=Py_ssize_t, head=Py_ssize_t, length=Py_ssize_t, pool=NetBufPool,
               crc=cython.ulong)
cpdef tuple crc_of(NetBuf buf)

@cython.locals(b=NetBuf, n=Py_ssize_t)
cpdef Py_ssize_t length_of(NetBuf buf) except -1

@cython.locals(whole=cython.longlong, out=bytearray, n=Py_ssize_t)
cpdef str us_text(double us)


cdef int _ENQUEUE, _HANDLE, _ALLOC, _FREE, _SEND_START, _SEND, _DELIVER, _DROP, _FAULT
cdef int _ALLOC_FAIL, _PROCESS, _STEP, _DEQUEUE, _SWITCH
cdef dict _CALLS


@cython.final
cdef class Tap:
    cdef public Kernel k
    cdef public bint packets
    cdef public bint switches
    cdef public object levels
    cdef public object lines
    cdef public object raw
    cdef public object put
    cdef double _ups
    cdef bint _exact
    cdef list _pending
    cdef bytearray _out
    cdef Py_ssize_t _used
    cdef dict _names
    cdef dict _pools
    cdef dict _tracks
    cdef dict _starts
    cdef long long _at
    cdef double _us
    cdef bytes _stamp

    cpdef Tap install(self)
    cdef _dispatch(self, int call, a, b, c, d)
    cpdef console(self, str line)
    cdef _enqueue(self, src, sink, buf)
    cdef _handle(self, queue, sink, buf, ret)
    cdef _pool(self, EventKind kind, NetBufPool pool, buf)
    cdef _send(self, src, buf, ret)
    cdef str _track(self, obj, str form)
    cdef _level_sink(self, sink)
    cdef _level_queue(self, PacketEventQueue queue)
    cdef _level_pool(self, NetBufPool pool)
    @cython.locals(now=cython.longlong)
    cdef double _now_us(self) except? -1.0
    @cython.locals(k=Kernel, tick=cython.longlong, us=double)
    cdef _event(self, EventKind kind, tuple values)
    cpdef flush(self)
    @cython.locals(i=Py_ssize_t, parts=list, codes=str, seps=tuple, out=bytearray,
                   n=Py_ssize_t, code=Py_UCS4, buf=NetBuf, sep=bytes, stop=Py_ssize_t,
                   start=Py_ssize_t, stamp=bytes)
    cdef _line(self, EventKind kind, long long tick, double us, tuple values)
    @cython.locals(text=str)
    cdef str _name(self, v)
    @cython.locals(head=str)
    cdef str _pool_head(self, pool)
    @cython.locals(buf=NetBuf, gen=cython.ulonglong, crc=cython.uint)
    cdef str _json(self, Py_UCS4 code, v)
