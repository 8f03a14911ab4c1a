using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBJob: with no argument the job in progress (nothing when none); with -Previous N the N
    /// newest finished jobs, ordered as MARS orders them: oldest first, the newest LAST (Windows Admin
    /// Center reads $jobs[$jobs.Length-1] as the newest), optionally only the Successful or the Failed ones.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBJob", DefaultParameterSetName = CurrentSet)]
    [OutputType(typeof(OBJob))]
    public sealed class GetOBJobCommand : OBCmdletBase
    {
        private const string CurrentSet = "Current";
        private const string PreviousSet = "Previous";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PreviousSet)]
        public uint Previous { get; set; }

        [Parameter(Position = 1, ParameterSetName = PreviousSet)]
        public JobStatusFilter Status { get; set; }

        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy policy = PolicyMapping.Committed(agent, withProtection: false);
                if (ParameterSetName == PreviousSet)
                {
                    // The engine lists the newest first; MARS writes the newest last.
                    var jobs = Native.JobList(agent, Previous, (int)Status);
                    for (int i = jobs.Count - 1; i >= 0; i--)
                    {
                        jobs[i].MountPath = Native.MountPath(agent, jobs[i]);
                        WriteObject(JobMapping.ToOBJob(jobs[i], policy));
                    }
                    return;
                }
                JobInfo current = Native.JobCurrent(agent);
                if (current != null)
                    WriteObject(JobMapping.ToOBJob(current, policy));
                // Mounted points are jobs in progress beside the one-at-a-time job (docs/JOBS.md, "The mount job").
                foreach (JobInfo mount in Native.Mounts(agent))
                    WriteObject(JobMapping.ToOBJob(mount, policy));
            }
        }
    }
}
