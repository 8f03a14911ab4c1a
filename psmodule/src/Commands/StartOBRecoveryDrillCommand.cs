using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBRecoveryDrill (obagent extension): a restore drill of the newest recovery point as
    /// a job (JobType RecoveryDrill): the point checked in full as Test-OBRecoveryPoint checks it,
    /// a random sample of its files restored into a scratch folder and compared with what the
    /// point records, the scratch folder removed. Without -Async it follows the job and ends on a
    /// success line, or on an error (DataCorrupt, InvalidData) naming what did not match; the
    /// error is non-terminating, as Start-OBBackup's (-ErrorAction Stop throws). With -Async it
    /// returns the OBJob at once. Refusals come from the engine: no recovery point (NotFound),
    /// another job in progress (Locked).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBRecoveryDrill", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBRecoveryDrillCommand : OBJobCmdletBase
    {
        private static readonly JobTexts Texts = new JobTexts
        {
            Activity = "Recovery drill",
            Success = "The recovery drill completed successfully: the newest recovery point can be restored.",
            WarningLine = "The recovery drill completed with warnings: {0} item(s).",
            WarningHeader = "{0} warning(s):",
            Aborted = "The recovery drill was stopped before it finished.",
            Failed = "The recovery drill failed. Get-OBJob -Previous 1 shows the job.",
            FailedIsNonTerminating = true,
        };

        [Parameter]
        public SwitchParameter Async { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess("the newest recovery point", "Start a recovery drill"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                JobInfo job = Native.DrillStart(agent);
                if (Async.IsPresent)
                {
                    WriteObject(JobMapping.ToOBJob(job, PolicyMapping.Committed(agent, withProtection: false)));
                    return;
                }
                FollowJob(agent, job, Texts, null);
            }
        }
    }
}
