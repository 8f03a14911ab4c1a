using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>struct ob_mount_request (recovery.h), version 1.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObMountRequestNative
    {
        internal uint version;
        internal IntPtr server_name;
        internal IntPtr passphrase;
        internal UIntPtr passphrase_len;
        internal IntPtr point_id;
        internal long datasource_id;
        internal IntPtr mount_path;
        internal long expiry_seconds;
    }

    /// <summary>Raw declarations of the mount calls of recovery.h (docs/MOUNT.md).</summary>
    internal static class NativeMountMethods
    {
        [DllImport(NativeMethods.Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_mount_start(out IntPtr info, out IntPtr path, AgentHandle agent, ref ObMountRequestNative request);

        [DllImport(NativeMethods.Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_unmount(AgentHandle agent, byte[] jobId, uint timeoutMs);

        [DllImport(NativeMethods.Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_mount_path(out IntPtr path, out long expires, AgentHandle agent, byte[] jobId);

        [DllImport(NativeMethods.Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ob_recovery_mounts(out IntPtr list, out UIntPtr count, AgentHandle agent);
    }

    internal static partial class Native
    {
        /// <summary>The job type of a mounted recovery point (OB_JOB_MOUNT).</summary>
        internal const int MountJobType = 3;

        /// <summary>Mount a recovery point's data source read-only; returns once mounted, the job with its MountPath.</summary>
        internal static JobInfo MountStart(AgentHandle agent, string serverName, SecretBytes passphrase, string pointId,
            long datasourceId, string mountPath, long expirySeconds)
        {
            using (var scope = new UnmanagedScope())
            {
                var raw = new ObMountRequestNative
                {
                    version = 1,
                    server_name = scope.Add(serverName),
                    passphrase = passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                    passphrase_len = new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length),
                    point_id = scope.Add(pointId),
                    datasource_id = datasourceId,
                    mount_path = scope.Add(mountPath),
                    expiry_seconds = expirySeconds,
                };
                IntPtr path = IntPtr.Zero;
                JobInfo job = TakeJob((out IntPtr p) => NativeMountMethods.ob_recovery_mount_start(out p, out path, agent, ref raw));
                job.MountPath = Utf8.FromNative(path);
                NativeMethods.ob_str_free(path);
                return job;
            }
        }

        internal static void Unmount(AgentHandle agent, string jobId)
        {
            Check(NativeMountMethods.ob_recovery_unmount(agent, Utf8.ToNative(jobId), 0));
        }

        /// <summary>A mount job's folder (null for another job type, or when it cannot be read).</summary>
        internal static string MountPath(AgentHandle agent, JobInfo job)
        {
            if (job == null || job.Type != MountJobType)
                return null;
            IntPtr p;
            long expires;
            if (NativeMountMethods.ob_recovery_mount_path(out p, out expires, agent, Utf8.ToNative(job.JobId)) < 0)
            {
                NativeMethods.ob_error_clear();
                return null;
            }
            string path = Utf8.FromNative(p);
            NativeMethods.ob_str_free(p);
            return path;
        }

        /// <summary>The mount jobs in progress, newest first, each with its MountPath.</summary>
        internal static List<JobInfo> Mounts(AgentHandle agent)
        {
            List<JobInfo> jobs = TakeList((out IntPtr list, out UIntPtr count) =>
                NativeMountMethods.ob_recovery_mounts(out list, out count, agent), NativeMethods.ob_job_list_free, ReadJob);
            foreach (JobInfo j in jobs)
                j.MountPath = MountPath(agent, j);
            return jobs;
        }
    }
}
