using System;

namespace OBAgent
{
    /// <summary>
    /// Get-OBRecoveryDrill (obagent extension): when restore drills run by themselves
    /// (Set-OBRecoveryDrill), the sample a drill restores, and the last drill's outcome.
    /// </summary>
    public sealed class OBRecoveryDrill
    {
        /// <summary>True when drills run by themselves on DaysOfWeek at TimesOfDay (the service runs them).</summary>
        public bool Scheduled { get; internal set; }

        public DayOfWeek[] DaysOfWeek { get; internal set; }

        public TimeSpan[] TimesOfDay { get; internal set; }

        /// <summary>The next scheduled drill (local time), or null when none is scheduled.</summary>
        public DateTime? NextRunTime { get; internal set; }

        /// <summary>The most files a drill restores and compares.</summary>
        public ulong SampleFileCount { get; internal set; }

        /// <summary>The most bytes of them, whichever limit comes first.</summary>
        public ulong SampleSizeInBytes { get; internal set; }

        /// <summary>When the last drill ended (local time), or null when none ran.</summary>
        public DateTime? LastDrillTime { get; internal set; }

        /// <summary>"Completed", "Failed", "Aborted", or null when none ran.</summary>
        public string LastDrillState { get; internal set; }

        /// <summary>The last drill's job (Get-OBJob -Previous lists it), or null.</summary>
        public Guid? LastDrillJobId { get; internal set; }

        /// <summary>Why the last drill failed, or null.</summary>
        public string LastDrillError { get; internal set; }

        public override string ToString()
        {
            return Scheduled ? string.Join(",", DaysOfWeek) + " " + string.Join(",", TimesOfDay) : "Not scheduled";
        }
    }
}
