using System;
using System.Collections.Generic;
using Microsoft.Internal.CloudBackup.ObjectModel.OMCommon;
using OBAgent;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>
    /// MARS's CBClientCommon static helpers that scripts (Windows Admin Center) call directly,
    /// backed by the engine through the same Interop wrappers the cmdlets use.
    /// </summary>
    public static class CBClientCommon
    {
        private const uint FinishedJobsMax = 10000;

        /// <summary>True when this server is registered to a vault. The argument is MARS's and unused.</summary>
        public static bool GetMachineRegistrationStatus(bool unused)
        {
            Native.EnsureInitialized();
            Native.SyncEnvironment();
            using (AgentHandle agent = Native.AgentOpen(null))
                return Native.AgentRegistration(agent) != null;
        }

        /// <summary>The running job and the finished jobs, as Get-OBJob and Get-OBJob -Previous return them.</summary>
        public static CBQueryJobsResult QueryJobs()
        {
            Native.EnsureInitialized();
            Native.SyncEnvironment();
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy policy = PolicyMapping.Committed(agent, withProtection: false);
                var running = new List<OBJob>();
                JobInfo current = Native.JobCurrent(agent);
                if (current != null)
                    running.Add(JobMapping.ToOBJob(current, policy));
                var finished = new List<OBJob>();
                OBJob lastBackup = null;
                // The engine lists the newest first; FinishedJobs is in Get-OBJob -Previous order, newest last.
                var jobs = Native.JobList(agent, FinishedJobsMax, (int)JobStatusFilter.All);
                for (int i = jobs.Count - 1; i >= 0; i--)
                {
                    OBJob ob = JobMapping.ToOBJob(jobs[i], policy);
                    finished.Add(ob);
                    if (ob.JobType == OBJobType.Backup)
                        lastBackup = ob;
                }
                return new CBQueryJobsResult
                {
                    RunningJobs = running.ToArray(),
                    FinishedJobs = finished.ToArray(),
                    LastBackupJob = lastBackup,
                };
            }
        }

        /// <summary>The display string of a job state (the member name, as MARS shows it).</summary>
        public static string ConvertJobStatusToString(CBJobState state, bool isBackup)
        {
            switch (state)
            {
                case CBJobState.InProgress: return "In progress";
                case CBJobState.Completed: return "Completed";
                case CBJobState.CompletedWithWarning: return "Completed with warnings";
                case CBJobState.Failed: return "Failed";
                case CBJobState.Aborted: return "Aborted";
                default: return "Unknown";
            }
        }

        /// <summary>The committed file policy and the newest/oldest recovery point of this server.</summary>
        public static CBPolicyAndRPInfo GetPolicyAndRPInfoForMachine()
        {
            Native.EnsureInitialized();
            Native.SyncEnvironment();
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                var info = new CBRecoveryPointsInfo { LatestCopy = DateTime.MinValue, OldestCopy = DateTime.MinValue };
                long newest = long.MinValue, oldest = long.MaxValue;
                foreach (RecoveryPointInfo p in Native.RecoveryPoints(agent))
                {
                    if (p.Damaged)
                        continue;
                    info.Count++;
                    if (p.BackupTime > newest) newest = p.BackupTime;
                    if (p.BackupTime < oldest) oldest = p.BackupTime;
                }
                if (info.Count > 0)
                {
                    info.LatestCopy = DateTimeOffset.FromUnixTimeSeconds(newest).LocalDateTime;
                    info.OldestCopy = DateTimeOffset.FromUnixTimeSeconds(oldest).LocalDateTime;
                }
                return new CBPolicyAndRPInfo
                {
                    Policy = PolicyMapping.Committed(agent, withProtection: false),
                    RecoveryPointsInfo = info,
                };
            }
        }

        /// <summary>
        /// The next scheduled backup of the file and folder policy, in local time; DateTime.MinValue when
        /// none will run by itself (no policy, no schedule, or a paused policy). The engine computes it.
        /// </summary>
        public static DateTime GetNextRunTimeOfScheduledTask()
        {
            Native.EnsureInitialized();
            Native.SyncEnvironment();
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                long next = Native.ScheduleNextRun(agent, systemState: false);
                return next == 0 ? DateTime.MinValue : DateTimeOffset.FromUnixTimeSeconds(next).LocalDateTime;
            }
        }

        /// <summary>obagent has no agent update pop-up: ShowAgentUpdatePopup is false.</summary>
        public static CBAgentUpdateInfo GetAgentUpdateInfo()
        {
            return new CBAgentUpdateInfo { ShowAgentUpdatePopup = false };
        }

        /// <summary>The security PIN requirement for critical operations; obagent always enforces it.</summary>
        public static CBEnhancedSecurityStatus GetEnhancedSecurityStatus()
        {
            return new CBEnhancedSecurityStatus { TokenState = "Enabled" };
        }
    }
}
