# Types for the compiled core (see setup.py); net_buf.py is the source.

cimport cython

from zsim.kernel.core cimport Kernel
from zsim.kernel.thread cimport RunLevel
from zsim.kernel.wait_q cimport WaitQ


cdef extern from *:
    """
    /* The running Python frame: compiled code has none of its own, so this is the frame
       that called into the compiled core (what sys._getframe(1) is from the sources).
       Before 3.11 the frame's fields are in frameobject.h. */
    #if PY_VERSION_HEX < 0x030B0000
    #include <frameobject.h>
    #endif
    static CYTHON_INLINE PyObject *zsim_frame_code(void)
    {
        PyFrameObject *f = PyEval_GetFrame();
        if (f == NULL)
            Py_RETURN_NONE;
        return (PyObject *)PyFrame_GetCode(f);
    }

    static CYTHON_INLINE int zsim_frame_lasti(void)
    {
        PyFrameObject *f = PyEval_GetFrame();
    #if PY_VERSION_HEX >= 0x030B0000
        return f == NULL ? -1 : PyFrame_GetLasti(f);
    #else
        return f == NULL ? -1 : f->f_lasti * 2;
    #endif
    }
    """
    object zsim_frame_code()
    int zsim_frame_lasti()


@cython.final
cdef class NetBufPool:
    cdef public Kernel k
    cdef public object name
    cdef public object count
    cdef public object size
    cdef public object user_data_size
    cdef public object destroy
    cdef public object storage
    cdef public object _mv
    cdef public list bufs
    cdef public NetBuf _free_head
    cdef public Py_ssize_t _uninit
    cdef public WaitQ wait_q
    cdef public Py_ssize_t _avail
    cdef public Py_ssize_t min_avail
    cdef public unsigned long long alloc_total
    cdef public unsigned long long alloc_failures
    cdef public object _zero_ud
    cdef object __weakref__

    @cython.locals(buf=NetBuf, k=Kernel)
    cpdef alloc(self, timeout=*)
    @cython.locals(buf=NetBuf, k=Kernel)
    cpdef _alloc(self, size, timeout)
    cpdef _release(self, NetBuf buf)
    cpdef _put_free(self, NetBuf buf)


@cython.final
cdef class NetBuf:
    cdef public NetBufPool pool
    cdef public object index
    cdef public int _ref
    cdef public object _base
    cdef public object _head
    cdef public object len
    cdef public object size
    cdef public NetBuf frags
    cdef public NetBuf _next_free
    cdef public object user_data
    cdef public object flags
    cdef public object _site_code
    cdef public int _site_at
    cdef public object alloc_thread
    cdef public long long alloc_time
    cdef public unsigned long long gen

    cpdef ref(self)
    @cython.locals(k=Kernel, pool=NetBufPool, buf=NetBuf, lv=RunLevel)
    cpdef unref(self)


cpdef _mark_site(NetBuf buf, int depth)
