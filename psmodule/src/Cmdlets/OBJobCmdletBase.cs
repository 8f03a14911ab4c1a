using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// What Start-OBBackup and Start-OBRecovery do with the job they started when -Async is not
    /// given: wait on it (ob_job_wait returns at the job's end, or after the progress interval),
    /// show a progress bar and one line per step, then end with the success line,
    /// a warning listing the files that failed, or an error carrying the job's error (terminating,
    /// or non-terminating for a Failed job when the cmdlet's texts say so, as Start-OBBackup's do).
    /// Ctrl+C (StopProcessing) asks the job to stop; it ends Aborted and keeps what it did.
    /// </summary>
    public abstract class OBJobCmdletBase : OBCmdletBase
    {
        private const int InProgress = 1, Completed = 2, CompletedWithWarning = 3, Aborted = 5;
        private const int MaxListedFailures = 10;

        private readonly ManualResetEvent stopping = new ManualResetEvent(false);
        private volatile string runningJob;

        /// <summary>The words that differ between a backup and a recovery.</summary>
        internal sealed class JobTexts
        {
            /// <summary>The progress bar's activity, e.g. "Backing up".</summary>
            internal string Activity;

            /// <summary>The last line of a job that completed, e.g. "The backup operation completed successfully.".</summary>
            internal string Success;

            /// <summary>The last line of a job with failed files; {0} is their count.</summary>
            internal string WarningLine;

            /// <summary>The warning's first line; {0} is the count of failed files.</summary>
            internal string WarningHeader;

            /// <summary>The error of a stopped job that gave no message of its own.</summary>
            internal string Aborted;

            /// <summary>The error of a failed job that gave no message of its own.</summary>
            internal string Failed;

            /// <summary>
            /// A Failed job is a non-terminating error (WriteError: $? is false, -ErrorAction Stop
            /// throws, a script goes on to its next command) rather than a terminating one.
            /// </summary>
            internal bool FailedIsNonTerminating;

            /// <summary>
            /// The job's phases are a backup's: its lines come in MARS's fixed order, and when a later phase
            /// shows, the lines before it not yet written (phases shorter than one poll) are written first
            /// (ob_job_phase_lines, the same logic as `obagent backup`). Otherwise each phase is written as it is.
            /// </summary>
            internal bool BackupSequence;
        }

        /// <summary>Write a phase's line, preceded by those of the backup sequence that came before it unseen.</summary>
        private void WritePhase(string phase, bool sequence, ref int written)
        {
            string[] lines = sequence ? Native.JobPhaseLines(phase, ref written) : null;
            if (lines == null)
            {
                WriteObject(phase);
                return;
            }
            foreach (string line in lines)
                WriteObject(line);
        }

        /// <summary>
        /// Follow a job to its end. Lines already written (e.g. "Estimating size of backup items...")
        /// are passed as firstLine so that the same phase is not written twice.
        /// </summary>
        internal void FollowJob(AgentHandle agent, JobInfo job, JobTexts texts, string firstLine)
        {
            runningJob = job.JobId;
            string lastPhase = firstLine;
            int written = -1;
            if (texts.BackupSequence && firstLine != null)
                Native.JobPhaseLines(firstLine, ref written);
            var clock = Stopwatch.StartNew();
            var progress = new ProgressRecord(1, texts.Activity, "Starting");
            while (true)
            {
                if (!string.IsNullOrEmpty(job.Phase) && job.Phase != lastPhase)
                {
                    WritePhase(job.Phase, texts.BackupSequence, ref written);
                    lastPhase = job.Phase;
                }
                if (job.State != InProgress)
                    break;
                ShowProgress(progress, job, clock);
                if (stopping.WaitOne(0))
                    return;
                // Returns as soon as the job ends, else after the interval for the next progress line.
                job = Native.JobWait(agent, job.JobId, ProgressIntervalMs);
                if (stopping.WaitOne(0))
                    return;
            }
            runningJob = null;
            // A job shorter than one interval shows its final counts, not the "0 of 0 files" it started with.
            if (job.FilesScanned > 0 || job.FilesDone > 0)
                ShowProgress(progress, job, clock);
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            FinishJob(agent, job, texts);
        }

        private const int ProgressIntervalMs = 300;

        private void ShowProgress(ProgressRecord progress, JobInfo job, Stopwatch clock)
        {
            double seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            if (job.FilesScanned == 0 && job.FilesDone == 0 && job.State == InProgress)
                progress.StatusDescription = string.IsNullOrEmpty(job.Phase) ? "Starting" : job.Phase;  // nothing counted yet
            else
                progress.StatusDescription = string.Format(CultureInfo.InvariantCulture,
                    "{0} of {1} files, {2:F1} MB done, {3:F1} MB/s", job.FilesDone, Math.Max(job.FilesScanned, job.FilesDone),
                    job.BytesDone / 1048576.0, job.BytesDone / 1048576.0 / seconds);
            progress.PercentComplete = job.PercentComplete;   // what reached the vault, not what was read
            if (!string.IsNullOrEmpty(job.Phase))
                progress.CurrentOperation = job.Phase;
            WriteProgress(progress);
        }

        private void FinishJob(AgentHandle agent, JobInfo job, JobTexts texts)
        {
            if (job.State == Completed)
            {
                WriteObject(texts.Success);
                return;
            }
            if (job.State == CompletedWithWarning)
            {
                List<OBFailedFile> failed = Native.JobFailedFiles(agent, job.JobId);
                ulong count = Math.Max(job.FilesFailed, (ulong)failed.Count);
                WriteObject(string.Format(CultureInfo.InvariantCulture, texts.WarningLine, count));
                var text = new System.Text.StringBuilder();
                text.AppendFormat(CultureInfo.InvariantCulture, texts.WarningHeader, count);
                for (int i = 0; i < failed.Count && i < MaxListedFailures; i++)
                    text.Append(Environment.NewLine).Append("  ").Append(failed[i].Path).Append(": ").Append(failed[i].Reason);
                if (count > MaxListedFailures)
                    text.Append(Environment.NewLine).Append("  ... (Get-OBJob -Previous 1).GetFailedFiles() lists them all.");
                WriteWarning(text.ToString());
                return;
            }
            int code = job.ErrorCode;
            string message = job.ErrorMessage;
            if (code == 0)
                code = (int)(job.State == Aborted ? ErrorCode.Cancelled : ErrorCode.Error);
            if (string.IsNullOrEmpty(message))
                message = job.State == Aborted ? texts.Aborted : texts.Failed;
            ErrorRecord record = ErrorMap.ToErrorRecord(JobFailure(code, message), job.JobId);
            if (job.State != Aborted && texts.FailedIsNonTerminating)
            {
                WriteError(record);
                return;
            }
            ThrowTerminatingError(record);
        }

        /// <summary>The exception for a job that ended Failed or Aborted; a cmdlet may word it better.</summary>
        internal virtual OBAgentException JobFailure(int code, string message)
        {
            return ErrorMap.FromNative(code, message);
        }

        protected override void StopProcessing()
        {
            stopping.Set();
            string id = runningJob;
            if (id == null)
                return;
            try
            {
                using (AgentHandle agent = Native.AgentOpen(null))
                {
                    Native.JobStop(agent, id);
                }
            }
            catch (OBAgentException)
            {
                // The job ended meanwhile.
            }
        }
    }
}
