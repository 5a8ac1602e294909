namespace BotStore.Enums;

/// <summary>The channel a conversation runs on. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("channel_type")]
public enum ChannelType : short
{
    /// <summary>Web chat interface.</summary>
    [EnumValue("web", "Web chat interface")]
    Web = 0,

    /// <summary>WhatsApp Business.</summary>
    [EnumValue("whatsapp", "WhatsApp Business")]
    Whatsapp = 1,

    /// <summary>Telegram Bot.</summary>
    [EnumValue("telegram", "Telegram Bot")]
    Telegram = 2,

    /// <summary>Microsoft Teams.</summary>
    [EnumValue("msteams", "Microsoft Teams")]
    Msteams = 3,

    /// <summary>Slack.</summary>
    [EnumValue("slack", "Slack")]
    Slack = 4,

    /// <summary>Email channel.</summary>
    [EnumValue("email", "Email channel")]
    Email = 5,

    /// <summary>SMS/Text messages.</summary>
    [EnumValue("sms", "SMS/Text messages")]
    Sms = 6,

    /// <summary>Voice/Phone.</summary>
    [EnumValue("voice", "Voice/Phone")]
    Voice = 7,

    /// <summary>Instagram DM.</summary>
    [EnumValue("instagram", "Instagram DM")]
    Instagram = 8,

    /// <summary>Direct API.</summary>
    [EnumValue("api", "Direct API")]
    Api = 9,
}
