using System;
using OBAgent.Interop;

namespace OBAgent.Mapping
{
    /// <summary>DrillInfo as the OBRecoveryDrill object Get-OBRecoveryDrill returns.</summary>
    internal static class DrillMapping
    {
        private static DateTime? LocalTime(long seconds)
        {
            return seconds == 0 ? (DateTime?)null : DateTimeOffset.FromUnixTimeSeconds(seconds).LocalDateTime;
        }

        internal static OBRecoveryDrill ToOBRecoveryDrill(DrillInfo info)
        {
            return new OBRecoveryDrill
            {
                Scheduled = info.Scheduled,
                DaysOfWeek = Protection.DaysOf(info.Days),
                TimesOfDay = Protection.TimesOf(info.Times),
                NextRunTime = info.Scheduled ? LocalTime(info.NextRun) : null,
                SampleFileCount = info.SampleFiles,
                SampleSizeInBytes = info.SampleBytes,
                LastDrillTime = LocalTime(info.LastTime),
                LastDrillState = info.LastState == 0 ? null : Native.JobStateName(info.LastState),
                LastDrillJobId = info.LastJobId == null ? (Guid?)null : JobMapping.ToGuid(info.LastJobId),
                LastDrillError = info.LastMessage,
            };
        }
    }
}
