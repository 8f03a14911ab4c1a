using System;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBBackup: back up now, with the committed policy. Without -Async it follows the job:
    /// progress bar, one line per step, then "The backup operation completed successfully." (or a
    /// warning listing files and folders it could not back up, or the job's error: for a Failed job a
    /// non-terminating error, so that $? is false and -ErrorAction Stop throws). Ctrl+C stops the job. With
    /// -Async it returns the OBJob at once; the job goes on without this session.
    ///
    /// Refusals made here: PolicyNotCommitted (InvalidOperation), a -Policy that Set-OBPolicy has
    /// not committed; PolicyNotFound (ObjectNotFound), a -Name that is not the committed policy's.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = PolicySet)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBBackupCommand : OBJobCmdletBase
    {
        private const string PolicySet = "Policy";
        private const string NameSet = "Name";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PolicySet)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        /// <summary>
        /// The committed policy's name. Bound from the pipeline by the property PolicyName too, so that
        /// `Get-OBPolicy | Start-OBBackup` works through Import-PSSession, where the policy arrives
        /// deserialized (not an OBPolicy) and binds by its PolicyName.
        /// </summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [Alias("PolicyName")]
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
                OBPolicy committed = PolicyMapping.Committed(agent, withProtection: false);
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
                    WriteObject(JobMapping.ToOBJob(job, committed));
                    return;
                }
                FollowJob(agent, job, Texts, null);
            }
        }

        private static readonly JobTexts Texts = new JobTexts
        {
            Activity = "Backing up",
            Success = "The backup operation completed successfully.",
            WarningLine = "The backup operation completed with warnings: {0} file(s) could not be backed up.",
            WarningHeader = "{0} file(s) could not be backed up:",
            Aborted = "The backup was stopped before it finished. What it stored is kept; the next backup goes on from there.",
            Failed = "The backup failed. Get-OBJob -Previous 1 shows the job.",
            FailedIsNonTerminating = true,
            BackupSequence = true,
        };
    }
}
