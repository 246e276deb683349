using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Floe.Storage;

/// <summary>
/// The few libc calls the file-system store needs because .NET does not expose their exact semantics:
/// link(2) fails atomically when the target exists, rename(2) never falls back to copying, flock(2) locks are
/// per open file description and released by the kernel when a process dies, and fsync(2) on a directory makes a
/// rename durable. Linux and macOS only.
/// </summary>
internal static partial class Posix
{
    private const string Libc = "libc";

    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int LOCK_EX = 2;
    public const int LOCK_UN = 8;

    private const int O_RDONLY = 0;
    private const int O_RDWR = 2;

    // The flag values differ between Linux (generic and x86-64 agree on these) and the BSD-derived macOS.
    private static readonly int OCreat = OperatingSystem.IsMacOS() ? 0x200 : 0x40;
    private static readonly int OCloexec = OperatingSystem.IsMacOS() ? 0x1000000 : 0x80000;

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags, int mode);

    [LibraryImport(Libc, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string existingPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string oldPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(int fd, int operation);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    /// <summary>Opens (creating if needed) a file for locking; the handle closes the descriptor.</summary>
    public static SafeFileHandle OpenLockFile(string path)
    {
        int fd;
        do
        {
            fd = OpenNative(path, O_RDWR | OCreat | OCloexec, 0b110_100_100);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw LastError("open", path);
    }

    /// <summary>Blocks until this descriptor holds an exclusive flock.</summary>
    public static void LockExclusive(SafeFileHandle handle, string path)
    {
        var fd = (int)handle.DangerousGetHandle();
        int result;
        do
        {
            result = FlockNative(fd, LOCK_EX);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (result < 0)
        {
            throw LastError("flock", path);
        }
    }

    public static void Unlock(SafeFileHandle handle) => _ = FlockNative((int)handle.DangerousGetHandle(), LOCK_UN);

    /// <summary>Creates <paramref name="newPath"/> as a second name of an existing file; false when it already exists.</summary>
    public static bool TryLink(string existingPath, string newPath)
    {
        if (LinkNative(existingPath, newPath) == 0)
        {
            return true;
        }

        return Marshal.GetLastPInvokeError() == EEXIST ? false : throw LastError("link", newPath);
    }

    /// <summary>Atomically replaces <paramref name="newPath"/> with <paramref name="oldPath"/> (same file system).</summary>
    public static void Rename(string oldPath, string newPath)
    {
        if (RenameNative(oldPath, newPath) != 0)
        {
            throw LastError("rename", newPath);
        }
    }

    /// <summary>Flushes a directory's entries so a completed rename or link survives a power loss.</summary>
    public static void FsyncDirectory(string directory)
    {
        int fd;
        do
        {
            fd = OpenNative(directory, O_RDONLY | OCloexec, 0);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw LastError("open", directory);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        // Some file systems (network, FUSE) cannot sync a directory; there is nothing more to do on those.
        if (FsyncNative(fd) != 0 && Marshal.GetLastPInvokeError() != EINVAL)
        {
            throw LastError("fsync", directory);
        }
    }

    private static IOException LastError(string operation, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{operation} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
