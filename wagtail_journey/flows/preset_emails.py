"""The texts of the presets' emails, in English, French and Portuguese.

Each email: subject, heading, paragraph, button label. Merge tags use the
fields every template may use ({{ first_name|default:"..." }}).
"""

from __future__ import annotations

EMAILS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "welcome": {
        "en": (
            'Welcome, {{ first_name|default:"friend" }}',
            'Welcome aboard, {{ first_name|default:"friend" }}!',
            "Thank you for confirming your subscription. Here is where to start.",
            "Start here",
        ),
        "fr": (
            'Bienvenue, {{ first_name|default:"à vous" }}',
            'Bienvenue, {{ first_name|default:"à vous" }} !',
            "Merci d'avoir confirmé votre inscription. Voici par où commencer.",
            "Commencer",
        ),
        "pt": (
            'Bem-vindo, {{ first_name|default:"amigo" }}',
            'Bem-vindo, {{ first_name|default:"amigo" }}!',
            "Obrigado por confirmar a sua subscrição. Comece por aqui.",
            "Começar",
        ),
    },
    "welcome_tips": {
        "en": (
            "Three tips to get the most out of us",
            "Three quick tips",
            "A few things our most satisfied customers discovered in their first week.",
            "Read the tips",
        ),
        "fr": (
            "Trois conseils pour bien commencer",
            "Trois conseils rapides",
            "Ce que nos clients les plus satisfaits ont découvert dès leur première semaine.",
            "Lire les conseils",
        ),
        "pt": (
            "Três dicas para tirar o máximo partido",
            "Três dicas rápidas",
            "O que os nossos clientes mais satisfeitos descobriram na primeira semana.",
            "Ler as dicas",
        ),
    },
    "nurture_guide": {
        "en": (
            "Our guide, chosen for you",
            "A guide for you",
            "Everything you need to decide, in ten minutes.",
            "Read the guide",
        ),
        "fr": (
            "Notre guide, choisi pour vous",
            "Un guide pour vous",
            "Tout ce qu'il faut pour décider, en dix minutes.",
            "Lire le guide",
        ),
        "pt": (
            "O nosso guia, escolhido para si",
            "Um guia para si",
            "Tudo o que precisa para decidir, em dez minutos.",
            "Ler o guia",
        ),
    },
    "nurture_story": {
        "en": (
            "How others did it",
            "A customer story",
            "How a team like yours got results in a month.",
            "Read their story",
        ),
        "fr": (
            "Comment d'autres ont fait",
            "Un témoignage client",
            "Comment une équipe comme la vôtre a obtenu des résultats en un mois.",
            "Lire leur histoire",
        ),
        "pt": (
            "Como outros fizeram",
            "Uma história de cliente",
            "Como uma equipa como a sua obteve resultados num mês.",
            "Ler a história",
        ),
    },
    "nurture_offer": {
        "en": (
            "Ready when you are",
            "Let's talk",
            "Book a short call and we will answer your questions.",
            "Book a call",
        ),
        "fr": (
            "Quand vous voulez",
            "Parlons-en",
            "Réservez un court appel et nous répondrons à vos questions.",
            "Réserver un appel",
        ),
        "pt": (
            "Quando quiser",
            "Vamos conversar",
            "Marque uma chamada curta e respondemos às suas perguntas.",
            "Marcar uma chamada",
        ),
    },
    "cart_reminder": {
        "en": (
            "You left something in your cart",
            "Still thinking it over?",
            "Your cart is saved: pick up where you left off.",
            "Back to my cart",
        ),
        "fr": (
            "Vous avez oublié quelque chose",
            "Encore en réflexion ?",
            "Votre panier est gardé : reprenez où vous en étiez.",
            "Revenir au panier",
        ),
        "pt": (
            "Deixou algo no carrinho",
            "Ainda a pensar?",
            "O seu carrinho está guardado: continue onde ficou.",
            "Voltar ao carrinho",
        ),
    },
    "cart_last_call": {
        "en": (
            "Last call for your cart",
            "Your cart expires soon",
            "Complete your order today; questions? Just reply.",
            "Complete my order",
        ),
        "fr": (
            "Dernier rappel pour votre panier",
            "Votre panier expire bientôt",
            "Finalisez votre commande aujourd'hui ; une question ? Répondez simplement.",
            "Finaliser ma commande",
        ),
        "pt": (
            "Última chamada para o seu carrinho",
            "O seu carrinho expira em breve",
            "Conclua a encomenda hoje; dúvidas? Basta responder.",
            "Concluir a encomenda",
        ),
    },
    "browse_reminder": {
        "en": (
            "Saw something you liked?",
            "Still interested?",
            "The pages you looked at are one click away.",
            "Have another look",
        ),
        "fr": (
            "Quelque chose vous a plu ?",
            "Toujours intéressé ?",
            "Les pages que vous avez consultées sont à un clic.",
            "Y retourner",
        ),
        "pt": (
            "Viu algo de que gostou?",
            "Ainda interessado?",
            "As páginas que viu estão a um clique.",
            "Ver de novo",
        ),
    },
    "upsell": {
        "en": (
            "Goes well with your order",
            "You might also like",
            "Customers who bought what you bought also chose these.",
            "See the selection",
        ),
        "fr": (
            "Va bien avec votre commande",
            "Vous aimerez aussi",
            "Les clients qui ont acheté comme vous ont aussi choisi ceci.",
            "Voir la sélection",
        ),
        "pt": (
            "Combina com a sua encomenda",
            "Também pode gostar",
            "Quem comprou o mesmo que si também escolheu isto.",
            "Ver a seleção",
        ),
    },
    "referral": {
        "en": (
            "Share the love",
            "Know someone who would like us?",
            "Tell your friends about us with your personal link: {{ referral_url }}",
            "Share with a friend",
        ),
        "fr": (
            "Faites-nous connaître",
            "Quelqu'un de votre entourage aimerait ?",
            "Parlez de nous à vos amis avec votre lien personnel : {{ referral_url }}",
            "Partager avec un ami",
        ),
        "pt": (
            "Partilhe",
            "Conhece alguém que gostaria?",
            "Fale de nós aos seus amigos com a sua ligação pessoal: {{ referral_url }}",
            "Partilhar com um amigo",
        ),
    },
    "reactivation": {
        "en": (
            'We miss you, {{ first_name|default:"friend" }}',
            "It has been a while",
            "Here is what is new since your last order.",
            "See what's new",
        ),
        "fr": (
            'Vous nous manquez, {{ first_name|default:"cher client" }}',
            "Cela fait un moment",
            "Voici les nouveautés depuis votre dernière commande.",
            "Voir les nouveautés",
        ),
        "pt": (
            'Temos saudades, {{ first_name|default:"caro cliente" }}',
            "Já passou algum tempo",
            "Eis as novidades desde a sua última encomenda.",
            "Ver as novidades",
        ),
    },
}
