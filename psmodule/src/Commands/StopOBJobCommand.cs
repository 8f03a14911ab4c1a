using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Stop-OBJob: stop a running backup or recovery. The job ends Aborted and keeps what it stored.
    /// Waits (up to a minute) for the job to end, then returns it.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "OBJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(OBJob))]
    public sealed class StopOBJobCommand : OBCmdletBase
    {
        private const int InProgress = 1;
        private readonly ManualResetEvent stopping = new ManualResetEvent(false);

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBJob Job { get; set; }

        protected override object ErrorTarget
        {
            get { return Job; }
        }

        protected override void Execute()
        {
            if (!ShouldProcess(Job.JobId.ToString(), string.Format("Stop the {0} job", Job.JobType)))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                Native.JobStop(agent, Job.EngineId);
                JobInfo info = Native.JobGet(agent, Job.EngineId);
                var clock = Stopwatch.StartNew();
                while (info.State == InProgress && clock.Elapsed.TotalSeconds < 60)
                {
                    if (stopping.WaitOne(200))
                        return;
                    info = Native.JobGet(agent, Job.EngineId);
                }
                WriteObject(JobMapping.ToOBJob(info, PolicyMapping.Committed(agent, withProtection: false)));
            }
        }

        protected override void StopProcessing()
        {
            stopping.Set();
        }
    }
}
