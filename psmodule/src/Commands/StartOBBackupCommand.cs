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
    /// Start-OBBackup: back up now, with the committed policy. Without -Async it follows the job:
    /// progress bar, one line per step, then "The backup operation completed successfully." (or a
    /// warning listing files it could not read, or the job's error). Ctrl+C stops the job. With
    /// -Async it returns the OBJob at once; the job goes on without this session.
    ///
    /// Refusals made here: PolicyNotCommitted (InvalidOperation), a -Policy that Set-OBPolicy has
    /// not committed; PolicyNotFound (ObjectNotFound), a -Name that is not the committed policy's.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = PolicySet)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBBackupCommand : OBCmdletBase
    {
        private const string PolicySet = "Policy";
        private const string NameSet = "Name";
        private const int InProgress = 1, Completed = 2, CompletedWithWarning = 3, Aborted = 5;
        private const int MaxListedFailures = 10;

        private readonly ManualResetEvent stopping = new ManualResetEvent(false);
        private volatile string runningJob;

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PolicySet)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = NameSet)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        [Parameter]
        public SwitchParameter Async { get; set; }

        /// <summary>Keep this recovery point at least until then.</summary>
        [Parameter]
        public DateTime RetainUntil { get; set; }

        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy committed = CommittedPolicy(agent);
                if (Policy != null && Policy.State == PolicyObjectState.New)
                {
                    ThrowError("This policy has not been committed. Commit it with Set-OBPolicy, then start the backup "
                        + "(Get-OBPolicy | Start-OBBackup).", "PolicyNotCommitted", ErrorCategory.InvalidOperation, Policy);
                    return;
                }
                if (Name != null && (committed == null || !string.Equals(committed.PolicyName, Name, StringComparison.OrdinalIgnoreCase)))
                {
                    ThrowError(string.Format("No committed policy is named '{0}'. Get-OBPolicy shows this server's policy.", Name),
                        "PolicyNotFound", ErrorCategory.ObjectNotFound, Name);
                    return;
                }
                if (!ShouldProcess(ServerNameHint(), "Back up now with the committed policy"))
                    return;
                long retain = 0;
                if (MyInvocation.BoundParameters.ContainsKey("RetainUntil"))
                    retain = new DateTimeOffset(RetainUntil.Kind == DateTimeKind.Unspecified
                        ? DateTime.SpecifyKind(RetainUntil, DateTimeKind.Local) : RetainUntil).ToUnixTimeSeconds();
                JobInfo job = Native.BackupStart(agent, retain);
                if (Async.IsPresent)
                {
                    WriteObject(ToOBJob(job, committed));
                    return;
                }
                Follow(agent, job);
            }
        }

        private void Follow(AgentHandle agent, JobInfo job)
        {
            runningJob = job.JobId;
            string lastPhase = null;
            var clock = Stopwatch.StartNew();
            var progress = new ProgressRecord(1, "Backing up", "Starting");
            while (true)
            {
                if (!string.IsNullOrEmpty(job.Phase) && job.Phase != lastPhase)
                {
                    WriteObject(job.Phase);
                    lastPhase = job.Phase;
                }
                if (job.State != InProgress)
                    break;
                double seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                progress.StatusDescription = string.Format(CultureInfo.InvariantCulture,
                    "{0} of {1} files, {2:F1} MB done, {3:F1} MB/s", job.FilesDone, job.FilesScanned,
                    job.BytesDone / 1048576.0, job.BytesDone / 1048576.0 / seconds);
                progress.PercentComplete = job.BytesScanned > 0 ? (int)Math.Min(100, job.BytesDone * 100 / job.BytesScanned) : -1;
                if (!string.IsNullOrEmpty(job.Phase))
                    progress.CurrentOperation = job.Phase;
                WriteProgress(progress);
                if (stopping.WaitOne(300))
                    return;
                job = Native.JobGet(agent, job.JobId);
            }
            runningJob = null;
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            Finish(agent, job);
        }

        private void Finish(AgentHandle agent, JobInfo job)
        {
            if (job.State == Completed)
            {
                WriteObject("The backup operation completed successfully.");
                return;
            }
            if (job.State == CompletedWithWarning)
            {
                List<OBFailedFile> failed = Native.JobFailedFiles(agent, job.JobId);
                ulong count = Math.Max(job.FilesFailed, (ulong)failed.Count);
                WriteObject(string.Format(CultureInfo.InvariantCulture,
                    "The backup operation completed with warnings: {0} file(s) could not be backed up.", count));
                var text = new System.Text.StringBuilder();
                text.AppendFormat(CultureInfo.InvariantCulture, "{0} file(s) could not be backed up:", count);
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
                code = job.State == Aborted ? -9 : -1;
            if (string.IsNullOrEmpty(message))
                message = job.State == Aborted
                    ? "The backup was stopped before it finished. What it stored is kept; the next backup goes on from there."
                    : "The backup failed. Get-OBJob -Previous 1 shows the job.";
            ThrowTerminatingError(ErrorMap.ToErrorRecord(ErrorMap.FromNative(code, message), job.JobId));
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
