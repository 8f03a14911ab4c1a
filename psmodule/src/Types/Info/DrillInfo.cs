namespace OBAgent
{
    /// <summary>ob_drill_info read: the drill schedule and the last drill's outcome.</summary>
    internal sealed class DrillInfo
    {
        internal bool Scheduled;
        internal uint Days;
        internal int[] Times;
        internal long NextRun;
        internal string LastJobId;
        internal int LastState;
        internal long LastTime;
        internal string LastMessage;
        internal ulong SampleFiles;
        internal ulong SampleBytes;
    }
}
