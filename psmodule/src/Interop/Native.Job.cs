using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // job.h

        internal static string JobStateName(int state)
        {
            return Utf8.FromNative(NativeMethods.ob_job_state_name(state));
        }

        private static JobInfo ReadJob(IntPtr p)
        {
            var raw = (ObJobInfoNative)Marshal.PtrToStructure(p, typeof(ObJobInfoNative));
            return new JobInfo
            {
                JobId = Utf8.FromNative(raw.job_id),
                Type = raw.type,
                State = raw.state,
                StartTime = raw.start_time,
                EndTime = raw.end_time,
                Phase = Utf8.FromNative(raw.phase),
                ErrorCode = raw.error_code,
                ErrorMessage = Utf8.FromNative(raw.error_message),
                FilesScanned = raw.files_scanned,
                FilesDone = raw.files_done,
                FilesFailed = raw.files_failed,
                BytesScanned = raw.bytes_scanned,
                BytesDone = raw.bytes_done,
                BytesUploaded = raw.bytes_uploaded,
                PercentComplete = NativeMethods.ob_job_percent_complete(p),
                DatasourceId = raw.datasource_id,
                Datasources = Lines(Utf8.FromNative(raw.datasources)),
                RecoveryPoint = Utf8.FromNative(raw.recovery_point),
            };
        }

        private static JobInfo TakeJob(int rc, IntPtr p)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_job_info_free(p);
                throw failure;
            }
            try
            {
                return ReadJob(p);
            }
            finally
            {
                NativeMethods.ob_job_info_free(p);
            }
        }

        /// <summary>Start a backup job of the committed policy; retainUntil in seconds since 1970 UTC, 0 for none.</summary>
        internal static JobInfo BackupStart(AgentHandle agent, long retainUntil)
        {
            IntPtr p;
            int rc = NativeMethods.ob_backup_start(out p, agent, retainUntil);
            return TakeJob(rc, p);
        }

        /// <summary>Start a System State backup job (capture, then back up the capture).</summary>
        internal static JobInfo SystemStateBackupStart(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_systemstate_backup_start(out p, agent);
            return TakeJob(rc, p);
        }

        internal static JobInfo JobGet(AgentHandle agent, string jobId)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_get(out p, agent, Utf8.ToNative(jobId));
            return TakeJob(rc, p);
        }

        /// <summary>The job once it has ended, or as it stands after timeoutMs (it returns at the job's end, not after a fixed sleep).</summary>
        internal static JobInfo JobWait(AgentHandle agent, string jobId, int timeoutMs)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_wait(out p, agent, Utf8.ToNative(jobId), (uint)Math.Max(0, timeoutMs));
            return TakeJob(rc, p);
        }

        /// <summary>The job in progress, or null when none is.</summary>
        internal static JobInfo JobCurrent(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_job_current(out p, agent);
            if (rc == NotFound)
            {
                NativeMethods.ob_job_info_free(p);
                NativeMethods.ob_error_clear();
                return null;
            }
            return TakeJob(rc, p);
        }

        /// <summary>The newest max finished jobs, newest first; filter as ob_job_filter.</summary>
        internal static List<JobInfo> JobList(AgentHandle agent, uint max, int filter)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_job_list(out list, out count, agent, new UIntPtr(max), filter);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_job_list_free(list, count);
                throw failure;
            }
            try
            {
                var jobs = new List<JobInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                    jobs.Add(ReadJob(Marshal.ReadIntPtr(list, (int)i * IntPtr.Size)));
                return jobs;
            }
            finally
            {
                NativeMethods.ob_job_list_free(list, count);
            }
        }

        internal static void JobStop(AgentHandle agent, string jobId)
        {
            Check(NativeMethods.ob_job_stop(agent, Utf8.ToNative(jobId)));
        }

        internal static List<OBFailedFile> JobFailedFiles(AgentHandle agent, string jobId)
        {
            IntPtr text;
            int rc = NativeMethods.ob_job_failed_files(out text, agent, Utf8.ToNative(jobId));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(text);
                throw failure;
            }
            return ParseFailures(Utf8.TakeOwned(text));
        }

        /// <summary>"path&lt;TAB&gt;reason" lines as OBFailedFile objects.</summary>
        private static List<OBFailedFile> ParseFailures(string text)
        {
            var files = new List<OBFailedFile>();
            foreach (string line in Lines(text))
            {
                int tab = line.IndexOf('\t');
                files.Add(tab < 0 ? new OBFailedFile { Path = line, Reason = "" }
                    : new OBFailedFile { Path = line.Substring(0, tab), Reason = line.Substring(tab + 1) });
            }
            return files;
        }
    }
}
