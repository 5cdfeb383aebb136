/* bcryptprimitives.dll for Wine 8, which lacks it.
 *
 * Rust's std (1.78 and later) imports ProcessPrng from bcryptprimitives.dll on Windows
 * to seed HashMap keys. Wine 8 ships no such DLL, so every Rust program fails to start.
 * This shim exports ProcessPrng over advapi32's SystemFunction036 (RtlGenRandom), which
 * Wine has. Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll prng_shim.c
 * (scripts/wine-setup does it and copies the DLL into the prefix's system32).
 */
#include <windows.h>

typedef BOOLEAN (WINAPI *rtl_gen_random_fn)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    static rtl_gen_random_fn gen;
    if (!gen) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        if (!advapi)
            return FALSE;
        gen = (rtl_gen_random_fn)GetProcAddress(advapi, "SystemFunction036");
        if (!gen)
            return FALSE;
    }
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!gen(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
