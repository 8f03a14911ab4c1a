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
            var raw = Marshal.PtrToStructure<ObJobInfoNative>(p);
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
                Datasources = Array.ConvertAll(Lines(Utf8.FromNative(raw.datasources)), EnginePath.ToNative),
                RecoveryPoint = Utf8.FromNative(raw.recovery_point),
            };
        }

        /// <summary>Run a call that hands out one ob_job_info, and return it read (null when absent).</summary>
        private static JobInfo TakeJob(MakeCall<IntPtr> call, ErrorCode? absent = null)
        {
            return Take(call, NativeMethods.ob_job_info_free, ReadJob, absent);
        }

        /// <summary>Start a backup job of the committed policy; retainUntil in seconds since 1970 UTC, 0 for none.</summary>
        internal static JobInfo BackupStart(AgentHandle agent, long retainUntil)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_backup_start(out p, agent, retainUntil));
        }

        /// <summary>Start a System State backup job (capture, then back up the capture).</summary>
        internal static JobInfo SystemStateBackupStart(AgentHandle agent)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_systemstate_backup_start(out p, agent));
        }

        internal static JobInfo JobGet(AgentHandle agent, string jobId)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_job_get(out p, agent, Utf8.ToNative(jobId)));
        }

        /// <summary>The job once it has ended, or as it stands after timeoutMs (it returns at the job's end, not after a fixed sleep).</summary>
        internal static JobInfo JobWait(AgentHandle agent, string jobId, int timeoutMs)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_job_wait(out p, agent, Utf8.ToNative(jobId), (uint)Math.Max(0, timeoutMs)));
        }

        /// <summary>The most lines ob_job_phase_lines gives at once (OB_JOB_PHASE_LINES_MAX).</summary>
        private const int PhaseLinesMax = 7;

        /// <summary>
        /// The progress lines to write for a backup's phase, in MARS's order, those of phases too short to be seen
        /// first (ob_job_phase_lines); written is the follower's state (-1 before any line). Null when the phase is
        /// not one of the sequence: write it as it is.
        /// </summary>
        internal static string[] JobPhaseLines(string phase, ref int written)
        {
            var lines = new IntPtr[PhaseLinesMax];
            int n = NativeMethods.ob_job_phase_lines(lines, (UIntPtr)PhaseLinesMax, ref written, Utf8.ToNative(phase));
            if (n < 0)
                return null;
            var texts = new string[n];
            for (int i = 0; i < n; i++)
                texts[i] = Utf8.FromNative(lines[i]);
            return texts;
        }

        /// <summary>The job in progress, or null when none is.</summary>
        internal static JobInfo JobCurrent(AgentHandle agent)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_job_current(out p, agent), ErrorCode.NotFound);
        }

        /// <summary>The committed policy's next scheduled backup, seconds since 1970 UTC; 0 when none (ob_schedule_next_run).</summary>
        internal static long ScheduleNextRun(AgentHandle agent, bool systemState)
        {
            long next;
            Check(NativeMethods.ob_schedule_next_run(out next, agent, systemState ? 1 : 0));
            return next;
        }

        /// <summary>The newest max finished jobs, newest first; filter as ob_job_filter.</summary>
        internal static List<JobInfo> JobList(AgentHandle agent, uint max, int filter)
        {
            return TakeList((out IntPtr list, out UIntPtr count) =>
                NativeMethods.ob_job_list(out list, out count, agent, new UIntPtr(max), filter),
                NativeMethods.ob_job_list_free, ReadJob);
        }

        internal static void JobStop(AgentHandle agent, string jobId)
        {
            Check(NativeMethods.ob_job_stop(agent, Utf8.ToNative(jobId)));
        }

        internal static List<OBFailedFile> JobFailedFiles(AgentHandle agent, string jobId)
        {
            return ParseFailures(TakeString((out IntPtr text) =>
                NativeMethods.ob_job_failed_files(out text, agent, Utf8.ToNative(jobId))));
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
